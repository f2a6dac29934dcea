"""textsim.fusion: the cosine and a reranker's score combined, hand-computed and on the tiny models."""
import numpy as np
import pytest
import torch

from textsim.fusion import (candidate_scores, first_place_changes, fuse, min_max, rerank_with_fusion, stack_scores,
                            tune_fusion)
from textsim.inference import score_pairs
from textsim.retrieval import Ranking

CORPUS = ["今天天气很好", "我喜欢吃苹果", "你在哪里", "这是一个测试句子", "小时候动画片", "想买台新电脑"]


# --- candidate_scores, fuse, tune_fusion -------------------------------------------------------------------------

# Pairs scored alone and in a padded batch may differ by float rounding. Measured over 43 pairs of the tiny model on
# an AMD EPYC with avx512_bf16: at most 3.0e-8 in fp32 and 0 in bf16. The tolerances allow for other kernels: 1e-6,
# and in bf16 one unit in the last place of a probability near 0.5 (8 significant bits: 0.5 * 2**-7 = 3.9e-3).
TOLERANCE = {"fp32": 1e-6, "bf16": 4e-3}


def test_candidate_scores_equal_one_pair_at_a_time_in_the_lists_order(tiny_cross_encoder, tokenizer, precision):
    queries, candidates = [CORPUS[0], "今天天气不错"], [[3, 1, 4], [5, 2]]
    found = candidate_scores(tiny_cross_encoder, tokenizer, CORPUS, queries, candidates, precision)
    assert [len(scores) for scores in found] == [3, 2]
    for query, pool, scores in zip(queries, candidates, found):
        expected = [score_pairs(tiny_cross_encoder, tokenizer, [(query, CORPUS[i])], precision=precision)[0]
                    for i in pool]
        np.testing.assert_allclose(scores, expected, atol=TOLERANCE[precision])
        batch = score_pairs(tiny_cross_encoder, tokenizer, [(query, CORPUS[i]) for i in pool], precision=precision)
        np.testing.assert_array_equal(scores, batch)  # one batch per query: exactly what the live path computes


def test_candidate_scores_refuse_the_no_result_id_and_unmatched_lists(tiny_cross_encoder, tokenizer):
    with pytest.raises(ValueError, match="-1"):
        candidate_scores(tiny_cross_encoder, tokenizer, CORPUS, [CORPUS[0]], [[2, -1]])
    with pytest.raises(ValueError, match="1 queries but 2 candidate lists"):
        candidate_scores(tiny_cross_encoder, tokenizer, CORPUS, [CORPUS[0]], [[2], [3]])


def test_min_max_scales_within_the_list_and_equal_scores_give_zeros():
    np.testing.assert_allclose(min_max([2.0, 4.0, 3.0]), [0.0, 1.0, 0.5])
    np.testing.assert_allclose(min_max([0.7, 0.7]), [0.0, 0.0])


def test_fuse_hand_computed_and_its_two_ends():
    retrieved = Ranking([[10, 11, 12]], [[0.9, 0.8, 0.5]], 2.0)
    reranker = [np.array([0.1, 0.3, 0.9])]  # scaled: 0, 0.25, 1; cosines scaled: 1, 0.75, 0
    assert fuse(retrieved, reranker, 1.0, depth=3, k=3).ids == [[10, 11, 12]]  # the retriever's order
    assert fuse(retrieved, reranker, 0.0, depth=3, k=3).ids == [[12, 11, 10]]  # the reranker's
    fused = fuse(retrieved, reranker, 0.6, depth=3, k=2)  # 0.6, 0.55, 0.4
    assert fused.ids == [[10, 11]] and fused.ms_per_query == 2.0
    np.testing.assert_allclose(fused.scores[0], [0.6, 0.55])
    assert fuse(retrieved, reranker, 0.0, depth=2, k=3).ids == [[11, 10]]  # only the first two are re-ranked


def test_fuse_of_two_rerankers_uses_the_mean_of_their_scaled_scores_scaled_again():
    retrieved = Ranking([[10, 11, 12]], [[0.9, 0.8, 0.5]], 0.0)
    first, second = [np.array([0.1, 0.3, 0.9])], [np.array([5.0, 1.0, 3.0])]  # scaled: 0, 0.25, 1 and 1, 0, 0.5
    both = stack_scores(first, second)  # mean 0.5, 0.125, 0.75, scaled again: 0.6, 0, 1
    assert both[0].shape == (2, 3)
    np.testing.assert_allclose(fuse(retrieved, both, 0.0, depth=3, k=3).scores[0], [1.0, 0.6, 0.0])
    assert fuse(retrieved, both, 0.0, depth=3, k=3).ids == [[12, 10, 11]]
    np.testing.assert_allclose(fuse(retrieved, both, 0.5, depth=3, k=1).scores[0], [0.8])  # (1 + 0.6) / 2
    one = fuse(retrieved, stack_scores(first), 0.4, depth=2, k=3)  # a stack of one is that reranker alone
    assert one.ids == fuse(retrieved, first, 0.4, depth=2, k=3).ids


def test_stack_scores_refuses_unmatched_sets():
    with pytest.raises(ValueError, match="at least one reranker"):
        stack_scores()
    with pytest.raises(ValueError, match=r"different numbers of queries: \[1, 2\]"):
        stack_scores([np.zeros(2)], [np.zeros(2), np.zeros(2)])
    with pytest.raises(ValueError, match="query 1: the rerankers scored different numbers of candidates"):
        stack_scores([np.zeros(2), np.zeros(3)], [np.zeros(2), np.zeros(2)])


@pytest.mark.parametrize("weight, depth, scores, message", [
    (1.5, 3, [np.zeros(3)], "weight must lie in"), (0.5, 0, [np.zeros(3)], "depth must be"),
    (0.5, 3, [], "1 rankings but 0 score lists"), (0.5, 3, [np.zeros(2)], "3 candidates but 2 reranker scores")])
def test_fuse_refuses_bad_arguments(weight, depth, scores, message):
    with pytest.raises(ValueError, match=message):
        fuse(Ranking([[0, 1, 2]], [[0.9, 0.8, 0.5]], 1.0), scores, weight, depth, k=2)


def test_tune_fusion_puts_the_weight_that_ranks_the_relevant_first_on_top():
    retrieved = Ranking([[0, 1, 2], [3, 4, 5]], [[0.9, 0.8, 0.5], [0.9, 0.6, 0.5]], 1.0)
    reranker = [np.array([0.1, 0.9, 0.2]), np.array([0.9, 0.1, 0.2])]  # right on both, the retriever on one
    grid = tune_fusion(retrieved, reranker, CORPUS, [CORPUS[1], CORPUS[3]], weights=[0.0, 1.0], depths=[3], k=3)
    assert grid.iloc[0].to_dict() == {"weight": 0.0, "depth": 3, "recall@1": 1.0, "mrr@3": 1.0}
    assert grid.iloc[1]["recall@1"] == 0.5 and len(grid) == 2


# The live path (rerank_with_fusion) and the offline path (candidate_scores, then fuse) must agree exactly in every
# precision: the tiny model's scores of one query's candidates lie within 3e-6 of each other, so min-max scaling
# turns any rounding difference between the two paths (3e-8 in fp32 when the batches were padded differently) into
# a different fused score (0.8375 against 0.84375) and order.

def test_rerank_with_fusion_equals_fuse_of_the_scores_and_adds_the_retrievers_time(tiny_cross_encoder, tokenizer,
                                                                                   precision):
    queries = [CORPUS[0], "今天天气不错"]
    retrieved = Ranking([[3, 1, 4, 2], [5, 2, 0]], [[0.9, 0.8, 0.7, 0.1], [0.9, 0.5, 0.4]], 3.0)
    found = rerank_with_fusion([(tiny_cross_encoder, tokenizer)], CORPUS, queries, retrieved, 0.5, depth=3, k=2,
                               precision=precision)
    scores = candidate_scores(tiny_cross_encoder, tokenizer, CORPUS, queries, [[3, 1, 4], [5, 2, 0]], precision)
    expected = fuse(Ranking([[3, 1, 4], [5, 2, 0]], [[0.9, 0.8, 0.7], [0.9, 0.5, 0.4]], 0.0), scores, 0.5, 3, 2)
    assert found.ids == expected.ids
    np.testing.assert_array_equal(np.concatenate(found.scores), np.concatenate(expected.scores))
    assert found.ms_per_query > 3.0


def test_rerank_with_fusion_of_two_rerankers_equals_fuse_of_their_stacked_scores(tiny_cross_encoder, tokenizer,
                                                                                 tiny_config, precision):
    from transformers import BertForSequenceClassification

    torch.manual_seed(1)
    tiny_regressor = BertForSequenceClassification(tiny_config(num_labels=1)).eval()
    queries, pools = [CORPUS[0], "今天天气不错"], [[3, 1, 4], [5, 2, 0]]
    retrieved = Ranking(pools, [[0.9, 0.8, 0.7], [0.9, 0.5, 0.4]], 0.0)
    rerankers = [(tiny_cross_encoder, tokenizer), (tiny_regressor, tokenizer)]
    found = rerank_with_fusion(rerankers, CORPUS, queries, retrieved, 0.3, depth=3, k=3, precision=precision)
    stacked = stack_scores(*(candidate_scores(m, t, CORPUS, queries, pools, precision) for m, t in rerankers))
    expected = fuse(retrieved, stacked, 0.3, 3, 3)
    assert found.ids == expected.ids
    np.testing.assert_array_equal(np.concatenate(found.scores), np.concatenate(expected.scores))


def test_rerank_with_fusion_needs_rerankers_and_one_ranking_per_query(tiny_cross_encoder, tokenizer):
    with pytest.raises(ValueError, match="rerankers is empty"):
        rerank_with_fusion([], CORPUS, ["a"], Ranking([[1]], [[0.0]], 1.0), 0.5, 1, 1)
    with pytest.raises(ValueError, match="2 queries but 1 rankings"):
        rerank_with_fusion([(tiny_cross_encoder, tokenizer)], CORPUS, ["a", "b"], Ranking([[1]], [[0.0]], 1.0), 0.5, 1, 1)


def test_first_place_changes_lists_the_queries_moved_up_or_down(tiny_cross_encoder, tokenizer):
    corpus, queries, relevant = ["甲乙", "丙丁", "戊己"], ["问一", "问二"], ["甲乙", "丙丁"]
    retrieved = Ranking([[1, 0, 2], [1, 0, 2]], [[0.9, 0.8, 0.1], [0.9, 0.8, 0.1]], 1.0)
    fused = Ranking([[0, 1, 2], [0, 1, 2]], [[1.0, 0.5, 0.0], [1.0, 0.5, 0.0]], 1.0)  # query 0 up, query 1 down
    rerankers = {"tiny": (tiny_cross_encoder, tokenizer)}
    up = first_place_changes(retrieved, fused, corpus, queries, relevant, rerankers, "up")
    down = first_place_changes(retrieved, fused, corpus, queries, relevant, rerankers, "down")
    assert set(up["query"]) == {"问一"} and set(down["query"]) == {"问二"}
    assert list(up["candidate"]) == ["丙丁", "甲乙"] and list(up["relevant"]) == [False, True]
    assert list(up["bi-encoder rank"]) == [1, 2] and list(up["fused rank"]) == [2, 1]
    expected = score_pairs(tiny_cross_encoder, tokenizer, [("问一", "丙丁"), ("问一", "甲乙")], progress=False)
    assert list(up["tiny"]) == [round(float(s), 3) for s in expected] and list(up["cosine"]) == [0.9, 0.8]
