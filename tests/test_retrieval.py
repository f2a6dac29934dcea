"""Retrieve and rerank: the corpus helpers, exact search, and both rankers on the tiny models."""
import numpy as np
import pytest

from textsim.inference import score_pairs
from textsim.retrieval import (Ranking, RetrievalTask, VectorIndex, bi_encoder_search, cap_corpus,
                               cross_encoder_rank, distinct_sentences, positive_queries, retrieval_task,
                               search_latency)

CORPUS = ["今天天气很好", "我喜欢吃苹果", "你在哪里", "这是一个测试句子", "小时候动画片", "想买台新电脑"]


@pytest.fixture
def index(tiny_biencoder, tokenizer):
    return VectorIndex(tiny_biencoder.encode(CORPUS, tokenizer))


# --- data helpers ------------------------------------------------------------------------------------------------

def test_distinct_sentences_in_order_of_first_appearance():
    rows = [{"sentence1": "a", "sentence2": "b"}, {"sentence1": "c", "sentence2": "a"},
            {"sentence1": "b", "sentence2": "d"}]
    assert distinct_sentences(rows) == ["a", "b", "c", "d"]


def test_positive_queries_pair_sentence1_with_sentence2():
    rows = [{"sentence1": "a", "sentence2": "b", "label": 1}, {"sentence1": "c", "sentence2": "d", "label": 0},
            {"sentence1": "e", "sentence2": "f", "label": 1}]
    assert positive_queries(rows) == [("a", "b"), ("e", "f")]


# --- VectorIndex -------------------------------------------------------------------------------------------------

def test_vector_index_exact_cosine_top_k():
    vectors = np.array([[1, 0], [0, 1], [0.6, 0.8], [-1, 0]], dtype=np.float32)
    scores, ids = VectorIndex(vectors).search(np.array([[0.8, 0.6], [0, -1]]), 2)
    assert ids.tolist() == [[2, 0], [0, 3]] or ids.tolist() == [[2, 0], [3, 0]]
    np.testing.assert_allclose(scores[0], [0.96, 0.8], atol=1e-6)
    np.testing.assert_allclose(scores[1], [0.0, 0.0], atol=1e-6)


def test_vector_index_length_is_its_number_of_vectors():
    assert len(VectorIndex(np.eye(3, dtype=np.float32))) == 3


def test_vector_index_pads_with_minus_one_beyond_the_corpus():
    _, ids = VectorIndex(np.eye(2, dtype=np.float32)).search(np.array([[1, 0]]), 4)
    assert ids.tolist() == [[0, 1, -1, -1]]


# --- cap_corpus --------------------------------------------------------------------------------------------------

def test_cap_corpus_keeps_must_keep_and_samples_the_rest():
    corpus = [f"s{i}" for i in range(20)]
    must_keep = ["s3", "s17", "s3", "s5", "s17"]  # relevant documents repeat
    capped = cap_corpus(corpus, must_keep, 8, seed=1)
    assert len(capped) == 8 and len(set(capped)) == 8
    assert capped[:3] == ["s3", "s17", "s5"] and set(capped) <= set(corpus)
    assert cap_corpus(corpus, must_keep, 8, seed=1) == capped
    assert cap_corpus(corpus, must_keep, 8, seed=2) != capped


def test_cap_corpus_without_a_limit_or_under_it_is_the_corpus():
    corpus = ["a", "b", "c"]
    assert cap_corpus(corpus, ["a"], None) is corpus and cap_corpus(corpus, ["a"], 3) is corpus


def test_cap_corpus_refuses_more_must_keep_than_the_limit():
    with pytest.raises(ValueError, match="must_keep holds 3 distinct sentences, more than the limit of 2"):
        cap_corpus(["a", "b", "c", "d"], ["a", "b", "c", "a"], 2)


def test_cap_corpus_of_a_corpus_with_repeats_gives_distinct_sentences():
    corpus = ["a", "a", "a", "b", "c", "d", "e", "a"]
    for seed in range(10):
        capped = cap_corpus(corpus, ["e"], 4, seed=seed)
        assert len(capped) == 4 and len(set(capped)) == 4


# --- bi_encoder_search -------------------------------------------------------------------------------------------

def test_bi_encoder_search_is_exact_cosine_without_the_query(tiny_biencoder, tokenizer, index):
    queries = [CORPUS[0], CORPUS[3], "今天天气不错"]  # the last one is not in the corpus
    found = bi_encoder_search(tiny_biencoder, tokenizer, index, CORPUS, queries, k=3)
    vectors, query_vectors = tiny_biencoder.encode(CORPUS, tokenizer), tiny_biencoder.encode(queries, tokenizer)
    for query, vector, ids, scores in zip(queries, query_vectors, found.ids, found.scores):
        cosines = vectors @ vector
        expected = [i for i in np.argsort(-cosines, kind="stable") if CORPUS[i] != query][:3]
        assert ids == expected
        np.testing.assert_allclose(scores, cosines[expected], atol=1e-5)
    assert found.ms_per_query > 0


def test_bi_encoder_search_returns_k_when_the_query_is_in_the_corpus_twice(tiny_biencoder, tokenizer):
    corpus = CORPUS + [CORPUS[0]]
    index = VectorIndex(tiny_biencoder.encode(corpus, tokenizer))
    found = bi_encoder_search(tiny_biencoder, tokenizer, index, corpus, [CORPUS[0]], k=3)
    assert len(found.ids[0]) == 3 and 0 not in found.ids[0] and len(corpus) - 1 not in found.ids[0]


def test_bi_encoder_search_beyond_the_corpus_never_gives_minus_one(tiny_biencoder, tokenizer, index):
    found = bi_encoder_search(tiny_biencoder, tokenizer, index, CORPUS, [CORPUS[0]], k=10)
    assert sorted(found.ids[0]) == list(range(1, len(CORPUS)))


def test_bi_encoder_search_needs_the_corpus_of_the_index(tiny_biencoder, tokenizer, index):
    with pytest.raises(ValueError, match="6 vectors but the corpus has 5 sentences"):
        bi_encoder_search(tiny_biencoder, tokenizer, index, CORPUS[:5], [CORPUS[0]], k=2)


@pytest.mark.parametrize("queries, k, message", [([], 2, "queries is empty"), (["你好"], 0, "k must be"),
                                                 (["你好"], -1, "k must be"), (["你好"], 2.5, "k must be")])
def test_bi_encoder_search_of_no_queries_or_a_bad_k(tiny_biencoder, tokenizer, index, queries, k, message):
    with pytest.raises(ValueError, match=message):
        bi_encoder_search(tiny_biencoder, tokenizer, index, CORPUS, queries, k)


# --- cross_encoder_rank ------------------------------------------------------------------------------------------

def test_cross_encoder_rank_keeps_the_best_k_of_the_pool(tiny_cross_encoder, tokenizer):
    queries, candidates = [CORPUS[0], "今天天气不错"], [[0, 1, 2, 3, 4], [5, 2, 0]]
    ranked = cross_encoder_rank(tiny_cross_encoder, tokenizer, CORPUS, queries, candidates, k=2)
    for query, pool, ids, scores in zip(queries, candidates, ranked.ids, ranked.scores):
        pool = [i for i in pool if CORPUS[i] != query]
        expected = score_pairs(tiny_cross_encoder, tokenizer, [(query, CORPUS[i]) for i in pool])
        order = np.argsort(-expected, kind="stable")[:2]
        assert ids == [pool[j] for j in order]
        np.testing.assert_allclose(scores, expected[order], atol=1e-6)


def test_cross_encoder_rank_never_scores_the_no_result_id(tiny_cross_encoder, tokenizer):
    ranked = cross_encoder_rank(tiny_cross_encoder, tokenizer, CORPUS, [CORPUS[0]], [[2, -1, 3]], k=5)
    assert sorted(ranked.ids[0]) == [2, 3]


def test_cross_encoder_rank_needs_one_pool_per_query(tiny_cross_encoder, tokenizer):
    with pytest.raises(ValueError, match="2 queries but 1 candidate lists"):
        cross_encoder_rank(tiny_cross_encoder, tokenizer, CORPUS, CORPUS[:2], [[1, 2]], k=1)


@pytest.mark.parametrize("queries, k, message", [([], 2, "queries is empty"), (["你好"], 0, "k must be"),
                                                 (["你好"], -1, "k must be")])
def test_cross_encoder_rank_of_no_queries_or_a_bad_k(tiny_cross_encoder, tokenizer, queries, k, message):
    with pytest.raises(ValueError, match=message):
        cross_encoder_rank(tiny_cross_encoder, tokenizer, CORPUS, queries, [[1, 2]] * len(queries), k)


@pytest.mark.parametrize("progress, shown", [(True, True), (False, False), (None, False)])
def test_cross_encoder_rank_progress_bar_over_the_queries(tiny_cross_encoder, tokenizer, capsys, progress, shown):
    """One bar over the queries (none per query's pool); by default only for more than 1,000 candidates in all."""
    cross_encoder_rank(tiny_cross_encoder, tokenizer, CORPUS, [CORPUS[0], CORPUS[1]], [[1, 2, 3], [0, 2, 3]], k=1,
                       progress=progress)
    err = capsys.readouterr().err
    assert ("0/2 [" in err) == shown and "/3 [" not in err  # 2 queries; no bar for a pool of 3


# --- the task of notebooks 04 and 05, and live latency -----------------------------------------------------------

def test_retrieval_task_queries_are_the_similar_pairs_and_the_corpus_keeps_their_answers():
    rows = [{"sentence1": f"q{i}", "sentence2": f"d{i}", "label": i % 2} for i in range(12)]
    splits = {"test": rows[:4], "validation": rows[4:8], "train": rows[8:]}
    task = retrieval_task(rows, splits, max_corpus=6, seed=0)
    assert isinstance(task, RetrievalTask)
    assert (task.queries, task.relevant) == (["q1", "q3"], ["d1", "d3"])
    assert (task.val_queries, task.val_relevant) == (["q5", "q7"], ["d5", "d7"])
    assert len(task.corpus) == 6 and {"d1", "d3", "d5", "d7"} <= set(task.corpus)
    assert retrieval_task(rows, splits).corpus == distinct_sentences(rows)  # no cap: every sentence


def test_search_latency_encodes_each_query_alone(tiny_biencoder, tokenizer, index, monkeypatch):
    batches = []
    encode = tiny_biencoder.encode
    monkeypatch.setattr(tiny_biencoder, "encode", lambda texts, *args, **kwargs: batches.append(list(texts))
                        or encode(texts, *args, **kwargs))
    ms = search_latency(tiny_biencoder, tokenizer, index, ["今天", "电脑", "苹果"], 2)
    assert ms > 0 and batches == [["今天"], ["今天"], ["电脑"], ["苹果"]]  # a warm-up, then one query at a time
    with pytest.raises(ValueError, match="queries is empty"):
        search_latency(tiny_biencoder, tokenizer, index, [], 2)



def test_retrieval_task_names_a_split_without_a_similar_pair():
    from datasets import Dataset

    pairs = {"sentence1": ["甲", "乙"], "sentence2": ["丙", "丁"], "label": [1, 0]}
    splits = {"test": Dataset.from_dict(pairs), "validation": Dataset.from_dict({**pairs, "label": [0, 0]})}
    with pytest.raises(ValueError, match="the validation split has no 相似 pair"):
        retrieval_task(Dataset.from_dict(pairs), splits)
