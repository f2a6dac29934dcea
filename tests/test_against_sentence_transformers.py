"""The hand-written pieces the notebooks teach give sentence-transformers' numbers on the same inputs.

The losses of notebook 03 against ``ContrastiveLoss`` and ``CoSENTLoss`` (their computation from embeddings, reached
without a model), the validation threshold of ``textsim.metrics`` against ``BinaryClassificationEvaluator`` and the
ranking metrics of notebook 04 against ``InformationRetrievalEvaluator``: each on given scores, and once through a
tiny SentenceTransformer built from modules around a tiny BiEncoder.
"""
import random

import numpy as np
import pytest
import torch
from sentence_transformers.sentence_transformer.evaluation import BinaryClassificationEvaluator, \
    InformationRetrievalEvaluator
from sentence_transformers.sentence_transformer.losses import ContrastiveLoss, CoSENTLoss, SiameseDistanceMetric

from textsim.biencoder import contrastive_loss, cosent_loss, pair_cosines
from textsim.metrics import best_threshold, metrics_at
from textsim.metrics import mrr_at_k, ranking_metrics, recall_at_k, relevant_ranks
from textsim.retrieval import Ranking, VectorIndex, bi_encoder_search

# Cosines on both sides of 1 - margin for both margins, and both labels on each side.
COSINES = [0.95, 0.8, 0.72, 0.6, 0.55, 0.3, 0.1, -0.2, -0.8, 0.9, 0.75, 0.62, 0.45, 0.0, -0.5, 1.0, -1.0]
LABELS = [1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1]
# the characters of the tiny vocabulary of conftest.py
CHARS = "今天气很好我喜欢吃苹果你在哪里这是一个测试句子相似不的人们去学校胡长得太快怎么办求部小时候动画片谢了想买台新电脑"


def unit_vectors_with_cosines(cosine: torch.Tensor) -> list[torch.Tensor]:
    """Two batches of 2-D unit vectors, pair i at the angle arccos(cosine[i]): (1, 0) and (cos, sin)."""
    angle = torch.arccos(cosine.clamp(-1, 1))
    first = torch.stack([torch.ones_like(angle), torch.zeros_like(angle)], dim=1)
    second = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return [first, second]


def hand_made_and_random():
    generator = torch.Generator().manual_seed(0)
    yield torch.tensor(COSINES, dtype=torch.float64), torch.tensor(LABELS, dtype=torch.float64)
    yield torch.rand(64, generator=generator, dtype=torch.float64) * 2 - 1, \
        torch.randint(0, 2, (64,), generator=generator).double()


def test_the_vectors_have_the_chosen_cosines():
    for cosine, _ in hand_made_and_random():
        first, second = unit_vectors_with_cosines(cosine)
        torch.testing.assert_close(torch.nn.functional.cosine_similarity(first, second), cosine, rtol=0, atol=1e-12)


# --- losses ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("margin", [0.5, 0.3])  # the library's default, and BiEncoder's config.margin default
def test_contrastive_loss_equals_the_library(margin):
    library = ContrastiveLoss(model=None, distance_metric=SiameseDistanceMetric.COSINE_DISTANCE, margin=margin,
                              size_average=True)
    for cosine, labels in hand_made_and_random():
        negatives = cosine[labels == 0]
        # Some 不相似 pairs are pushed (distance within the margin), some left alone (beyond it).
        assert (1 - negatives < margin).any() and (1 - negatives > margin).any()
        expected = library.compute_loss_from_embeddings(unit_vectors_with_cosines(cosine), labels)
        torch.testing.assert_close(contrastive_loss(cosine, labels, margin), expected, rtol=0, atol=1e-12)


def test_contrastive_loss_is_a_mean_like_the_library_with_size_average():
    cosine, labels = next(hand_made_and_random())
    summed = ContrastiveLoss(model=None, size_average=False).compute_loss_from_embeddings(
        unit_vectors_with_cosines(cosine), labels)
    torch.testing.assert_close(contrastive_loss(cosine, labels, 0.5) * len(cosine), summed, rtol=0, atol=1e-12)


@pytest.mark.parametrize("graded", [False, True])
def test_cosent_loss_equals_the_library(graded):
    library = CoSENTLoss(model=None, scale=20.0)
    for cosine, labels in hand_made_and_random():
        if graded:  # CoSENT orders any labels, not only 0/1: similarity grades of 0, 1/3, 2/3 and 1
            labels = torch.arange(len(labels), dtype=torch.float64) % 4 / 3
        expected = library.compute_loss_from_embeddings(unit_vectors_with_cosines(cosine), labels)
        assert expected > 1  # far from the floor of log(1) = 0 where any two losses agree
        torch.testing.assert_close(cosent_loss(cosine, labels), expected, rtol=1e-12, atol=1e-10)


# --- the validation threshold ------------------------------------------------------------------------------------

def score_sets():
    """(scores, labels): random; rounded to 1 decimal (many ties); one label only; and a perfect split."""
    rng = np.random.default_rng(0)
    for _ in range(5):
        labels = rng.integers(0, 2, 60)
        yield rng.normal(labels * 0.3, 0.4), labels
    labels = rng.integers(0, 2, 80)
    yield np.round(rng.normal(labels * 0.3, 0.4), 1), labels
    yield rng.random(20), np.zeros(20, dtype=int)
    yield rng.random(20), np.ones(20, dtype=int)
    yield np.array([0.1, 0.2, 0.3, 0.8, 0.9]), np.array([0, 0, 0, 1, 1])


def test_accuracy_at_our_threshold_equals_the_evaluators_best_cosine_accuracy():
    for scores, labels in score_sets():
        accuracy, threshold = BinaryClassificationEvaluator.find_best_acc_and_threshold(scores, labels, True)
        assert metrics_at(scores, labels, best_threshold(scores, labels))["accuracy"] == pytest.approx(accuracy)
        # and the evaluator's own cut, applied as our metrics_at applies a cut (score >= cut), gives it too
        assert metrics_at(scores, labels, threshold)["accuracy"] == pytest.approx(accuracy)


# --- ranking metrics ---------------------------------------------------------------------------------------------

KS = [1, 2, 3, 5, 10]


def test_recall_and_mrr_equal_the_evaluators_on_a_hand_made_ranking():
    corpus = [f"文档{i}" for i in range(12)]
    queries = [f"问题{i}" for i in range(7)]
    relevant = [0, 3, 5, 7, 9, 11, 2]  # corpus position of each query's one relevant document
    ids = [[0, 1, 2],  # relevant at rank 1
           [1, 3, 0],  # rank 2
           [2, 4, 5, 6, 1],  # rank 3
           [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 7],  # rank 12: past every k
           [1, 2, 3, 4, 9, 0],  # rank 5
           [4, 5, 6],  # not found
           [8, 9, 10, 1, 3, 4, 5, 6, 7, 2]]  # rank 10
    found = Ranking(ids, [[1.0 - rank / 100 for rank in range(len(row))] for row in ids], 1.0)
    ranks = relevant_ranks(found, corpus, [corpus[i] for i in relevant])
    assert ranks == [1, 2, 3, 12, 5, None, 10]

    evaluator = InformationRetrievalEvaluator(
        queries={f"q{q}": text for q, text in enumerate(queries)},
        corpus={f"d{d:02d}": text for d, text in enumerate(corpus)},
        relevant_docs={f"q{q}": {f"d{d:02d}"} for q, d in enumerate(relevant)},
        mrr_at_k=KS, accuracy_at_k=KS, precision_recall_at_k=KS, ndcg_at_k=[10], map_at_k=[10])
    hits = [[{"corpus_id": f"d{d:02d}", "score": score} for d, score in zip(row, scores)]
            for row, scores in zip(found.ids, found.scores)]
    library = evaluator.compute_metrics(hits)
    for k in KS:
        assert recall_at_k(ranks, k) == pytest.approx(library["recall@k"][k]), k
        assert recall_at_k(ranks, k) == pytest.approx(library["accuracy@k"][k]), k  # one relevant document each
        assert mrr_at_k(ranks, k) == pytest.approx(library["mrr@k"][k]), k
    assert len({round(library["mrr@k"][k], 9) for k in KS}) == len(KS)  # every k tells a different number


# --- through a tiny SentenceTransformer --------------------------------------------------------------------------

@pytest.fixture
def biencoder_and_sentence_transformer(make_biencoder, tokenizer, tmp_path):
    """A tiny mean-pooling BiEncoder and the SentenceTransformer of the same weights built from modules."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    model = make_biencoder(pooling="mean")
    model.save_pretrained(tmp_path / "biencoder")
    tokenizer.save_pretrained(tmp_path / "biencoder")
    encoder = Transformer(str(tmp_path / "biencoder"), max_seq_length=128, model_kwargs={"add_pooling_layer": False})
    library = SentenceTransformer(modules=[encoder, Pooling(model.config.hidden_size, "mean"), Normalize()],
                                  device="cpu")
    return model, library


def test_binary_classification_evaluator_on_a_model(biencoder_and_sentence_transformer, tokenizer, make_rows):
    model, library = biencoder_and_sentence_transformer
    rows = make_rows(n=80, seed=3)
    pairs = {name: [row[name] for row in rows] for name in ("sentence1", "sentence2", "label")}
    cosines = pair_cosines(model, tokenizer, pairs)
    evaluator = BinaryClassificationEvaluator(pairs["sentence1"], pairs["sentence2"], pairs["label"],
                                              similarity_fn_names=["cosine"], write_csv=False)
    found = evaluator(library)
    ours = metrics_at(cosines, pairs["label"], best_threshold(cosines, pairs["label"]))["accuracy"]
    assert ours > max(np.mean(pairs["label"]), 1 - np.mean(pairs["label"]))  # beats always answering one label
    assert ours == pytest.approx(found["cosine_accuracy"])


def test_information_retrieval_evaluator_on_a_model(biencoder_and_sentence_transformer, tokenizer):
    model, library = biencoder_and_sentence_transformer
    # 40 short documents; a query for each of the first 20: its document with 3 characters redrawn and 吗 added,
    # so that even the random model finds most of them, at various ranks, and no query is itself in the corpus
    rng = random.Random(2)
    corpus = list(dict.fromkeys("".join(rng.choice(CHARS) for _ in range(rng.randint(4, 12))) for _ in range(40)))
    queries = []
    for document in corpus[:20]:
        query = list(document)
        for _ in range(3):
            query[rng.randrange(len(query))] = rng.choice(CHARS)
        queries.append(("".join(query) + "吗", document))
    ranking = bi_encoder_search(model, tokenizer, VectorIndex(model.encode(corpus, tokenizer)), corpus,
                                [query for query, _ in queries], k=max(KS))
    ours = ranking_metrics(ranking, corpus, [document for _, document in queries], ks=KS)

    evaluator = InformationRetrievalEvaluator(
        queries={f"q{q}": query for q, (query, _) in enumerate(queries)},
        corpus={f"d{d}": document for d, document in enumerate(corpus)},
        relevant_docs={f"q{q}": {f"d{corpus.index(document)}"} for q, (_, document) in enumerate(queries)},
        mrr_at_k=[max(KS)], accuracy_at_k=KS, precision_recall_at_k=KS, ndcg_at_k=[10], map_at_k=[10],
        write_csv=False)
    found = evaluator(library)
    assert 0 < ours["recall@1"] < ours[f"recall@{max(KS)}"] < 1  # neither nothing nor everything found
    for k in KS:
        assert ours[f"recall@{k}"] == pytest.approx(found[f"cosine_recall@{k}"]), k
    assert ours[f"mrr@{max(KS)}"] == pytest.approx(found[f"cosine_mrr@{max(KS)}"])
