"""textsim.reranker: hard negatives, listwise groups and their Trainer, on tiny random models."""

import numpy as np
import pytest
import torch
from transformers import BertForSequenceClassification, EvalPrediction

from textsim.reranker import GroupCollator, ListwiseReranker, listwise_groups, listwise_trainer, \
    mine_hard_negatives, normalized, tokenize_groups, top1_accuracy

CORPUS = ["今天天气很好", "我喜欢吃苹果", "你在哪里", "这是一个测试句子", "小时候动画片", "想买台新电脑"]


# --- mine_hard_negatives ------------------------------------------------------------------------------------------

def test_normalized_ignores_punctuation_spaces_and_case():
    assert normalized("胡子长得快怎么办？") == normalized("胡子 长得快怎么办") == "胡子长得快怎么办"
    assert normalized("Hello, World!") == "helloworld"


def test_mine_hard_negatives_takes_the_bi_encoders_best_other_sentences(tiny_biencoder, tokenizer):
    corpus = CORPUS + ["今天天气很好！", "我喜欢吃香蕉"]  # a near-duplicate of the query, a plausible negative
    rows = mine_hard_negatives(tiny_biencoder, tokenizer, [(CORPUS[0], CORPUS[1])], corpus, per_query=2, depth=4)
    assert rows[0] == {"sentence1": CORPUS[0], "sentence2": CORPUS[1], "label": 1}
    negatives = [row["sentence2"] for row in rows[1:]]
    vectors = tiny_biencoder.encode(corpus, tokenizer)
    order = [corpus[i] for i in np.argsort(-(vectors @ vectors[0]), kind="stable")
             if corpus[i] not in (CORPUS[0], CORPUS[1], "今天天气很好！")]
    assert negatives == order[:2] and {row["label"] for row in rows[1:]} == {0}


def test_mine_hard_negatives_groups_a_querys_positives_and_samples_with_a_seed(tiny_biencoder, tokenizer):
    pairs = [(CORPUS[0], CORPUS[1]), (CORPUS[0], CORPUS[2]), (CORPUS[3], CORPUS[4])]
    rows = mine_hard_negatives(tiny_biencoder, tokenizer, pairs, CORPUS, per_query=1, depth=3, seed=0)
    first = [row for row in rows if row["sentence1"] == CORPUS[0]]
    assert [row["label"] for row in first] == [1, 1, 0]
    assert first[2]["sentence2"] not in CORPUS[:3]  # neither positive is ever a negative
    assert rows == mine_hard_negatives(tiny_biencoder, tokenizer, pairs, CORPUS, per_query=1, depth=3, seed=0)


@pytest.mark.parametrize("pairs, per_query, message", [([], 1, "pairs is empty"), ([("a", "b")], 0, "per_query")])
def test_mine_hard_negatives_refuses_bad_arguments(tiny_biencoder, tokenizer, pairs, per_query, message):
    with pytest.raises(ValueError, match=message):
        mine_hard_negatives(tiny_biencoder, tokenizer, pairs, CORPUS, per_query=per_query)


# --- listwise groups -------------------------------------------------------------------------------------------------

ROWS = [{"sentence1": "q1", "sentence2": "p1", "label": 1}, {"sentence1": "q1", "sentence2": "n1", "label": 0},
        {"sentence1": "q1", "sentence2": "n2", "label": 0}, {"sentence1": "q2", "sentence2": "p2", "label": 1},
        {"sentence1": "q2", "sentence2": "n3", "label": 0}, {"sentence1": "q2", "sentence2": "n4", "label": 0}]


def test_listwise_groups_put_the_positive_first():
    assert listwise_groups(ROWS) == [{"query": "q1", "candidates": ["p1", "n1", "n2"]},
                                     {"query": "q2", "candidates": ["p2", "n3", "n4"]}]


def test_listwise_groups_refuse_groups_of_different_sizes_and_no_positive():
    with pytest.raises(ValueError, match="query 'q2' has another number of negatives"):
        listwise_groups(ROWS[:5] + [{"sentence1": "q3", "sentence2": "p3", "label": 1},
                                    {"sentence1": "q3", "sentence2": "n5", "label": 0},
                                    {"sentence1": "q3", "sentence2": "n6", "label": 0}])
    with pytest.raises(ValueError, match="no positive"):
        listwise_groups([row for row in ROWS if row["label"] == 0])


def test_group_collator_flattens_groups_into_padded_pairs(tokenizer):
    groups = [{"query": CORPUS[0], "candidates": CORPUS[1:4]}, {"query": CORPUS[4], "candidates": CORPUS[3:6]}]
    tokenized = tokenize_groups(groups, tokenizer)
    assert tokenized[0]["length"] == max(len(ids) for ids in tokenized[0]["input_ids"])
    batch = GroupCollator(tokenizer)([tokenized[0], tokenized[1]])
    assert batch["input_ids"].shape[0] == 6 and batch["labels"].tolist() == [0, 0]
    expected = tokenizer(CORPUS[4], CORPUS[4])["input_ids"]  # the 5th pair: group 2's second candidate
    assert batch["input_ids"][4, :len(expected)].tolist() == expected


def test_listwise_reranker_loss_is_the_cross_entropy_of_the_positive(tiny_config, tokenizer):
    torch.manual_seed(0)
    model = BertForSequenceClassification(tiny_config(num_labels=1)).eval()
    groups = [{"query": CORPUS[0], "candidates": CORPUS[1:4]}, {"query": CORPUS[4], "candidates": CORPUS[3:6]}]
    batch = GroupCollator(tokenizer)(list(tokenize_groups(groups, tokenizer)))
    labels = batch.pop("labels")
    out = ListwiseReranker(model, 3)(labels=labels, **batch)
    scores = model(**batch).logits.view(2, 3)
    expected = -torch.log_softmax(scores, dim=1)[:, 0].mean()
    assert out["logits"].shape == (2, 3)
    torch.testing.assert_close(out["loss"], expected)


def test_top1_accuracy_counts_groups_whose_positive_scores_highest():
    scores = np.array([[0.9, 0.1, 0.2], [0.1, 0.5, 0.2]])
    assert top1_accuracy(EvalPrediction(predictions=scores, label_ids=np.zeros(2))) == {"accuracy": 0.5}


def test_listwise_trainer_trains_and_evaluates_on_groups(make_run, tiny_config, tokenizer, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    run = make_run(batch_size=2)
    groups = [{"query": CORPUS[i], "candidates": [CORPUS[(i + j) % 6] for j in (1, 2, 3)]} for i in range(6)]
    tokenized = {"train": tokenize_groups(groups, tokenizer), "validation": tokenize_groups(groups[:2], tokenizer)}
    torch.manual_seed(0)
    model = BertForSequenceClassification(tiny_config(num_labels=1))
    trainer = listwise_trainer(run, ListwiseReranker(model, 3), tokenizer, tokenized, learning_rate=1e-3, epochs=1)
    assert trainer.args.learning_rate == 1e-3 and trainer.args.output_dir.endswith("unit_notebook_reranker")
    trainer.train()
    metrics = trainer.evaluate()
    assert 0 <= metrics["eval_accuracy"] <= 1 and np.isfinite(metrics["eval_loss"])
