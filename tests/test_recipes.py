"""textsim.recipes: each recipe's model, inputs and Trainer, as notebooks 01-03 set them up, on tiny models."""
import numpy as np
import pytest
import torch
from transformers import EvalPrediction
from transformers.integrations import TensorBoardCallback

import textsim
from textsim import recipes
from textsim.biencoder import BiEncoder, PairCollator
from textsim.device import launch_overrides
from textsim.recipes import (bi_encoder_trainer, cross_encoder_trainer, load_model, recipe_trainer,
                             tokenize)
from textsim.series.profiles import RECIPES, recipe_named


@pytest.fixture
def splits(make_rows):
    return textsim.split_pairs(make_rows(60), seed=42)


@pytest.fixture
def run(make_run, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    return make_run(batch_size=8, cross_lr=3e-4, cross_epochs=1, original_bi_lr=5e-5, original_bi_epochs=0.5,
                    improved_bi_lr=7e-5, improved_bi_epochs=2)


def test_the_recipes_are_the_notebooks():
    assert sorted(RECIPES) == ["bi-improved", "bi-original", "classification", "regression"]
    assert {name: recipe.job for name, recipe in RECIPES.items()} == {
        "classification": "cross", "regression": "cross", "bi-original": "bi", "bi-improved": "bi"}
    assert dict(RECIPES["bi-original"].settings) == {"pooling": "pooler", "loss": "cosine_embedding",
                                                     "margin": 0.3, "threshold": 0.8}
    assert dict(RECIPES["bi-improved"].settings) == {"pooling": "mean", "loss": "contrastive", "margin": 0.5}


def test_a_recipe_is_looked_up_by_name_only_from_the_command_line():
    assert recipe_named("regression") is RECIPES["regression"]
    with pytest.raises(ValueError, match="unknown recipe 'cosent'.*bi-improved"):
        recipe_named("cosent")


def test_load_model_per_recipe(base):
    classification, new = load_model(RECIPES["classification"], base, seed=1)
    assert classification.config.num_labels == 2
    assert classification.config.id2label == {0: "不相似", 1: "相似"}
    assert "classifier.weight" in new
    regression, _ = load_model(RECIPES["regression"], base, seed=1)
    assert regression.config.num_labels == 1 and regression.config.id2label == {0: "LABEL_0"}  # notebook 02
    for name in ("bi-original", "bi-improved"):
        model, _ = load_model(RECIPES[name], base, seed=1)
        assert isinstance(model, BiEncoder)
        assert {key: getattr(model.config, key) for key in dict(RECIPES[name].settings)} == \
            dict(RECIPES[name].settings)


def test_load_model_seeds_the_new_head(base):
    first, again, other = (load_model(RECIPES["classification"], base, seed=seed)[0] for seed in (1, 1, 2))
    assert torch.equal(first.classifier.weight, again.classifier.weight)
    assert not torch.equal(first.classifier.weight, other.classifier.weight)


def test_tokenize_per_recipe(splits, tokenizer):
    classification = tokenize(RECIPES["classification"], splits, tokenizer)
    assert classification["train"]["label"] == splits["train"]["label"]
    regression = tokenize(RECIPES["regression"], splits, tokenizer)
    assert "label" not in regression["train"].column_names
    assert regression["train"]["labels"] == [float(label) for label in splits["train"]["label"]]
    assert type(regression["train"]["labels"][0]) is float
    bi = tokenize(RECIPES["bi-improved"], splits, tokenizer, max_length=16)
    assert {"input_ids_1", "input_ids_2", "length", "label"} <= set(bi["train"].column_names)
    assert max(len(ids) for ids in bi["train"]["input_ids_1"]) <= 16


def test_cross_encoder_trainer_has_the_notebooks_settings(run, base, splits, tokenizer):
    model, _ = load_model(RECIPES["regression"], base, seed=1)
    trainer = cross_encoder_trainer(run, model, tokenizer, tokenize(RECIPES["regression"], splits, tokenizer))
    args = trainer.args
    assert (args.learning_rate, args.num_train_epochs) == (3e-4, 1)
    assert args.output_dir == str(run.checkpoint_dir())
    assert args.use_cpu is True and args.average_tokens_across_devices is False
    assert trainer.train_dataset is not None and len(trainer.eval_dataset) == len(splits["validation"])
    assert trainer.processing_class is tokenizer
    board = [c for c in trainer.callback_handler.callbacks if isinstance(c, TensorBoardCallback)]
    assert [c.logging_dir for c in board] == [str(run.tensorboard_dir())]
    scores = np.array([[0.2], [0.7]])  # the default metrics: score >= 0.5 means 相似
    assert trainer.compute_metrics(EvalPrediction(scores, np.array([0.0, 1.0])))["accuracy"] == 1.0


def test_cross_encoder_trainer_takes_the_notebooks_metrics(run, base, splits, tokenizer):
    def metrics(prediction):
        return {"accuracy": 0.25}

    model, _ = load_model(RECIPES["classification"], base, seed=1)
    trainer = cross_encoder_trainer(run, model, tokenizer, tokenize(RECIPES["classification"], splits, tokenizer), metrics)
    assert trainer.compute_metrics is metrics


@pytest.mark.parametrize("name, lr, epochs, part, cut", [
    ("bi-original", 5e-5, 0.5, "original_recipe", 0.8),
    ("bi-improved", 7e-5, 2, "improved", None),
])
def test_bi_encoder_trainer_per_recipe(run, base, splits, tokenizer, name, lr, epochs, part, cut):
    model, _ = load_model(RECIPES[name], base, seed=1)
    recipe = RECIPES[name]
    trainer = bi_encoder_trainer(run, model, tokenizer, tokenize(recipe, splits, tokenizer), recipe)
    args = trainer.args
    assert (args.learning_rate, args.num_train_epochs) == (lr, epochs)
    assert args.remove_unused_columns is False and args.output_dir == str(run.checkpoint_dir(part))
    assert isinstance(trainer.data_collator, PairCollator)
    board = [c for c in trainer.callback_handler.callbacks if isinstance(c, TensorBoardCallback)]
    assert [c.logging_dir for c in board] == [str(run.tensorboard_dir(part))]
    cosines, labels = np.array([0.6, 0.7, 0.9]), np.array([0, 1, 1])
    found = trainer.compute_metrics(EvalPrediction(cosines, labels))
    assert found["threshold"] == pytest.approx(0.65 if cut is None else 0.8)  # None: the best cut on validation
    assert recipe_trainer(run, recipe, model, tokenizer, tokenize(recipe, splits, tokenizer)).args.output_dir == \
        args.output_dir


def test_launch_overrides_change_nothing_on_one_process(run, base, splits, tokenizer, monkeypatch):
    """use_cpu and average_tokens_across_devices only matter with several processes: one process trains the
    same weights with them as without them (as the notebooks did before)."""
    def trained(overrides):
        monkeypatch.setattr(recipes, "launch_overrides", lambda: overrides)
        model, _ = load_model(RECIPES["classification"], base, seed=1)
        trainer = cross_encoder_trainer(run, model, tokenizer, tokenize(RECIPES["classification"], splits, tokenizer))
        assert trainer.args.use_cpu is overrides.get("use_cpu", False)
        trainer.train()
        return {key: value.clone() for key, value in trainer.model.state_dict().items()}

    with_them, without = trained(launch_overrides()), trained({})
    assert with_them.keys() == without.keys()
    assert all(torch.equal(with_them[key], without[key]) for key in with_them)
    assert not torch.equal(with_them["classifier.weight"], load_model(RECIPES["classification"], base, 1)[0].classifier.weight)

