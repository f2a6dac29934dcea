"""textsim/levers.py: both orders, the joint head's probability and loss, R-Drop, distillation, seed averaging."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from textsim import levers


def test_swapped_exchanges_the_sentences_and_keeps_the_labels(pair_dataset):
    swapped = levers.swapped(pair_dataset)
    assert swapped["sentence1"] == pair_dataset["sentence2"]
    assert swapped["sentence2"] == pair_dataset["sentence1"]
    assert swapped["label"] == pair_dataset["label"]


def test_both_orders_holds_every_pair_in_each_order(pair_dataset):
    both = levers.both_orders(pair_dataset)
    assert both.column_names == pair_dataset.column_names
    assert len(both) == 2 * len(pair_dataset)
    forward = {(a, b, y) for a, b, y in zip(both["sentence1"], both["sentence2"], both["label"])}
    for a, b, y in zip(pair_dataset["sentence1"], pair_dataset["sentence2"], pair_dataset["label"]):
        assert (a, b, y) in forward and (b, a, y) in forward


def test_pair_probability_of_two_logits_is_the_softmax():
    logits = torch.tensor([[0.0, 0.0], [1.0, 3.0]])
    assert torch.allclose(levers.pair_probability(logits), logits.softmax(-1)[:, 1])


def test_pair_probability_of_the_joint_head_averages_softmax_and_clipped_score():
    logits = torch.tensor([[0.0, 0.0, 1.7], [0.0, 0.0, -0.4], [0.0, 0.0, 0.3]])
    assert torch.allclose(levers.pair_probability(logits), torch.tensor([0.75, 0.25, 0.4]))


def test_task_loss_is_cross_entropy_plus_mse_for_the_joint_head():
    logits, labels = torch.tensor([[0.2, 1.0, 0.6], [1.5, -0.5, 0.1]]), torch.tensor([1, 0])
    cross = F.cross_entropy(logits[:, :2], labels)
    assert torch.isclose(levers.task_loss(logits[:, :2], labels), cross)
    assert torch.isclose(levers.task_loss(logits, labels), cross + F.mse_loss(logits[:, 2], labels.float()))


def test_distillation_moves_the_target_toward_the_teacher():
    logits, labels = torch.tensor([[0.3, 0.9]]), torch.tensor([1])
    log_p = logits.log_softmax(-1)[0]
    teacher = torch.tensor([0.7])
    expected = 0.5 * -log_p[1] + 0.5 * -(0.3 * log_p[0] + 0.7 * log_p[1])
    assert torch.isclose(levers.task_loss(logits, labels, teacher, distill=0.5), expected)
    # a teacher that agrees with the gold label (P = 1) changes nothing
    assert torch.isclose(levers.task_loss(logits, labels, torch.tensor([1.0]), distill=0.5),
                         levers.task_loss(logits, labels))


def test_symmetric_kl_is_zero_for_equal_predictions_and_symmetric():
    a, b = torch.tensor([[0.1, 2.0], [1.0, -1.0]]), torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    assert levers.symmetric_kl(a, a).item() == pytest.approx(0.0, abs=1e-7)
    assert levers.symmetric_kl(a, b).item() == pytest.approx(levers.symmetric_kl(b, a).item())
    p, q = a.softmax(-1), b.softmax(-1)
    by_hand = ((p * (p / q).log()).sum() + (q * (q / p).log()).sum()) / 2 / len(a)
    assert levers.symmetric_kl(a, b).item() == pytest.approx(by_hand.item(), rel=1e-5)


def test_lever_metrics_reads_any_head():
    two = np.array([[0.0, 1.0], [2.0, 0.0], [0.0, 1.0]])
    assert levers.lever_metrics((two, np.array([1, 0, 0])))["accuracy"] == pytest.approx(2 / 3)
    three = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    assert levers.lever_metrics((three, np.array([1, 0])))["accuracy"] == 1.0


def test_pair_scores_in_both_orders_are_order_free(tiny_cross_encoder, tokenizer, sentence_pairs):
    scores = levers.pair_scores(tiny_cross_encoder, tokenizer, sentence_pairs)
    backwards = levers.pair_scores(tiny_cross_encoder, tokenizer, [(b, a) for a, b in sentence_pairs])
    assert np.allclose(levers.pair_scores(tiny_cross_encoder, tokenizer, sentence_pairs, both=True),
                       (scores + backwards) / 2, atol=1e-6)
    with pytest.raises(ValueError, match=r"pairs\[0\]"):
        levers.pair_scores(tiny_cross_encoder, tokenizer, [("only one",)])


def test_lever_trainer_loss_with_rdrop_adds_the_consistency_term(tiny_config, tokenizer):
    from transformers import BertForSequenceClassification, TrainingArguments

    torch.manual_seed(0)
    model = BertForSequenceClassification(tiny_config(num_labels=2, hidden_dropout_prob=0.3)).train()
    inputs = tokenizer(["今天天气很好", "我喜欢吃苹果"], ["天气不好", "苹果"], padding=True, return_tensors="pt")
    inputs["labels"] = torch.tensor([1, 0])
    args = TrainingArguments(output_dir="unused", report_to="none", use_cpu=True)
    plain = levers.LeverTrainer(model=model, args=args)
    rdrop = levers.LeverTrainer(model=model, args=args, rdrop=1.0)
    torch.manual_seed(1)
    loss, outputs = rdrop.compute_loss(model, inputs, return_outputs=True)
    torch.manual_seed(1)  # the same dropout masks, by hand
    doubled = {k: torch.cat([v, v]) for k, v in inputs.items() if k != "labels"}
    first, second = model(**doubled).logits.chunk(2)
    expected = (F.cross_entropy(first, inputs["labels"]) + F.cross_entropy(second, inputs["labels"])) / 2 \
        + levers.symmetric_kl(first, second)
    assert torch.isclose(loss, expected)
    assert torch.allclose(outputs.logits, first)
    assert "labels" in inputs  # the caller's batch is left as it was
    model.eval()  # no dropout: one pass, the plain loss
    assert torch.isclose(rdrop.compute_loss(model, inputs), plain.compute_loss(model, inputs))


def test_seed_average_is_the_mean_per_pair():
    assert np.allclose(levers.seed_average([[0.2, 0.9], [0.4, 0.5], [0.6, 0.1]]), [0.4, 0.5])


def test_lever_trainer_trains_with_every_lever_at_once(make_run, base, tokenizer, make_rows):
    from textsim.data import split_pairs

    splits = split_pairs(make_rows(60), seed=0)
    settings = {"both_orders": True, "epochs": 2, "patience": 1, "joint": True, "rdrop": 1.0, "dropout": 0.1,
                "lr": 1e-3, "distill": 0.5}
    model = levers.lever_model(str(base), settings, seed=0)
    assert model.config.num_labels == 3 and model.config.hidden_dropout_prob == 0.1
    teacher = np.linspace(0, 1, len(splits["train"]))
    trainer = levers.lever_trainer(make_run("levers"), model, tokenizer, splits, settings, seed=0, teacher=teacher,
                                   disable_tqdm=True, use_cpu=True)
    assert len(trainer.train_dataset) == 2 * len(splits["train"])
    assert "teacher" in trainer.train_dataset.column_names and trainer.distill == 0.5 and trainer.rdrop == 1.0
    assert trainer.args.learning_rate == 1e-3 and trainer.args.num_train_epochs == 2
    assert np.isfinite(trainer.train().training_loss)
    assert 0 <= trainer.evaluate()["eval_accuracy"] <= 1


def test_distillation_without_a_teacher_is_refused(make_run, base, tokenizer, make_rows):
    from textsim.data import split_pairs

    splits = split_pairs(make_rows(40), seed=0)
    with pytest.raises(ValueError, match="teacher="):
        levers.lever_trainer(make_run("levers"), levers.lever_model(str(base), {}, 0), tokenizer, splits,
                             {"distill": 0.5}, seed=0, use_cpu=True)
