"""textsim.evaluation: the one way the notebooks and the training command evaluate and save a trained recipe.

The last test trains each kind of recipe twice on a tiny model, once with ``python -m textsim.train`` and once
with the calls notebooks 02 and 03 make, and requires the same results rows.
"""
import dataclasses
import json

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, EvalPrediction

import textsim
from textsim.biencoder import BiEncoder, pair_cosines
from textsim.evaluation import CHOSEN, cut_metrics, predicted_scores, result_rows, save_trained, split_scores
from textsim.recipes import cross_encoder_trainer, load_model, recipe_trainer, tokenize
from textsim.series.profiles import RECIPES
from textsim.train import main

SCORES = {"validation": (np.array([0.1, 0.4, 0.6, 0.9]), np.array([0, 0, 1, 1])),
          "test": (np.array([0.2, 0.45, 0.55, 0.7, 0.8]), np.array([0, 1, 0, 1, 1]))}


class FakeTrainer:
    """``predict`` as the Trainer gives it: predictions in another order than the dataset, with their label_ids."""

    def __init__(self, logits, label_ids):
        self.output = EvalPrediction(predictions=np.asarray(logits), label_ids=np.asarray(label_ids))

    def predict(self, dataset):
        return self.output


def test_predicted_scores_of_two_logits_are_their_difference_and_labels_come_from_label_ids():
    trainer = FakeTrainer([[0.2, 1.0], [2.0, -1.0]], [1.0, 0.0])
    scores, labels, per_second = predicted_scores(trainer, [0, 1])
    np.testing.assert_allclose(scores, [0.8, -3.0])
    assert labels.tolist() == [1, 0] and labels.dtype.kind == "i" and per_second > 0
    probability = torch.sigmoid(torch.from_numpy(scores)).numpy()  # = softmax's P(相似)
    np.testing.assert_allclose(probability, torch.tensor([[0.2, 1.0], [2.0, -1.0]]).softmax(-1)[:, 1], rtol=1e-6)


def test_predicted_scores_of_one_output_are_that_output():
    scores, labels, _ = predicted_scores(FakeTrainer([[0.3], [0.9]], [0.0, 1.0]), [0, 1])
    np.testing.assert_allclose(scores, [0.3, 0.9])
    assert labels.tolist() == [0, 1]


def test_cut_metrics_of_two_logits_is_the_argmax_whatever_the_cut():
    scores, labels = np.array([-0.5, 0.2, 0.1]), np.array([0, 1, 0])
    assert cut_metrics(RECIPES["classification"], scores, labels, 0.5)["accuracy"] == pytest.approx(2 / 3)
    assert cut_metrics(RECIPES["regression"], scores, labels, 0.15)["accuracy"] == 1.0


def test_result_rows_give_the_fixed_cut_then_the_validation_one():
    rows, validation, chosen = result_rows(RECIPES["regression"], SCORES, train_seconds=1.5)
    assert chosen == pytest.approx(0.5)  # the midpoint between 0.4 and 0.6 separates validation
    assert [(row["threshold"], row["threshold_source"]) for row in rows] == [(0.5, "fixed 0.5 (original)"),
                                                                             (0.5, CHOSEN)]
    assert all(row["recipe"] == "cross-encoder (regression)" and row["train_seconds"] == 1.5 and row["pairs"] == 5
               for row in rows)
    assert rows[0]["accuracy"] == 0.6 and validation[CHOSEN]["accuracy"] == 1.0


def test_result_rows_of_a_recipe_without_a_chosen_cut_or_without_a_fixed_one():
    rows, validation, chosen = result_rows(RECIPES["classification"], SCORES)
    assert chosen is None and [row["threshold_source"] for row in rows] == ["fixed (argmax of 2 logits)"]
    assert list(validation) == ["fixed (argmax of 2 logits)"]
    rows, _, chosen = result_rows(RECIPES["bi-improved"], SCORES)
    assert [row["threshold_source"] for row in rows] == [CHOSEN] and rows[0]["threshold"] == round(chosen, 4)


def test_save_trained_writes_the_threshold_and_each_recipes_export(tmp_path, base, tokenizer):
    regression, _ = load_model(RECIPES["regression"], str(base), seed=1)
    folder = save_trained(RECIPES["regression"], regression, tokenizer, tmp_path / "regression", 32, threshold=0.6)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert config["threshold"] == 0.6 and "sentence_transformers" in config  # CrossEncoder reads it without sigmoid
    assert AutoModelForSequenceClassification.from_pretrained(folder).config.threshold == 0.6
    assert AutoTokenizer.from_pretrained(folder).vocab == tokenizer.vocab
    classification, _ = load_model(RECIPES["classification"], str(base), seed=1)
    folder = save_trained(RECIPES["classification"], classification, tokenizer, tmp_path / "classification", 32)
    assert "sentence_transformers" not in json.loads((folder / "config.json").read_text(encoding="utf-8"))
    bi, _ = load_model(RECIPES["bi-improved"], str(base), seed=1)
    folder = save_trained(RECIPES["bi-improved"], bi, tokenizer, tmp_path / "bi", 32, threshold=0.7)
    assert (folder / "modules.json").is_file() and BiEncoder.from_pretrained(folder).config.threshold == 0.7


def test_save_trained_replaces_an_earlier_model_whole(tmp_path, base, tokenizer):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "stale.bin").write_bytes(b"old")
    model, _ = load_model(RECIPES["classification"], str(base), seed=1)
    save_trained(RECIPES["classification"], model, tokenizer, folder, 32)
    assert not (folder / "stale.bin").exists() and (folder / "model.safetensors").is_file()


def notebook_rows(make_run, base, data, recipe):
    """The rows the notebooks compute for ``recipe``: 02's calls for a cross-encoder, 03's for a bi-encoder."""
    run = make_run(recipe.notebook)
    splits = textsim.load_splits(run.profile, data)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    model, _ = load_model(recipe, str(base), run.profile.seed)
    tokenized = tokenize(recipe, splits, tokenizer, run.profile.max_length)
    if recipe.job == "cross":
        trainer = cross_encoder_trainer(run, model, tokenizer, tokenized)
        trainer.train()
        validation_scores, validation_labels, _ = predicted_scores(trainer, tokenized["validation"])
        test_scores, test_labels, _ = predicted_scores(trainer, tokenized["test"])
    else:
        trainer = recipe_trainer(run, recipe, model, tokenizer, tokenized)
        trainer.train()
        validation_scores, test_scores = (pair_cosines(trainer.model, tokenizer, splits[name],
                                                       max_length=run.profile.max_length)
                                          for name in ("validation", "test"))
        validation_labels, test_labels = (np.array(splits[name]["label"]) for name in ("validation", "test"))
    scores = {"validation": (validation_scores, validation_labels), "test": (test_scores, test_labels)}
    return result_rows(recipe, scores)[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["regression", "bi-improved"])
def test_the_command_and_the_notebooks_report_the_same_rows(tmp_path, base, make_rows, make_run, monkeypatch, name):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    data = tmp_path / "pairs.json"
    data.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in make_rows(80)), encoding="utf-8")
    assert main(["--recipe", name, "--data", str(data), "--profile", "smoke", "--model", str(base),
                 "--out", str(tmp_path / "command")]) == 0
    record = json.loads(next((tmp_path / "command" / "results").rglob(f"train_{name}.json")).read_text("utf-8"))
    timing = ("train_seconds", "eval_pairs_per_second")
    command = [{k: v for k, v in row.items() if k not in timing} for row in record["rows"]]
    notebooks = notebook_rows(make_run, base, data, RECIPES[name])
    assert command == notebooks and len(command) == 1 + (RECIPES[name].fixed is not None)
    assert command[-1]["threshold_source"] == CHOSEN


def test_split_scores_of_a_bi_encoder_are_its_cosines_in_dataset_order(tokenizer, tiny_biencoder, make_rows):
    splits = textsim.split_pairs(make_rows(40), seed=1)
    trainer = dataclasses.make_dataclass("Holder", ["model"])(tiny_biencoder)
    found, speed = split_scores(RECIPES["bi-improved"], trainer, tokenizer, splits, None, 32)
    assert speed is None
    np.testing.assert_allclose(found["test"][0], pair_cosines(tiny_biencoder, tokenizer, splits["test"],
                                                              max_length=32))
    assert found["validation"][1].tolist() == splits["validation"]["label"]
