"""Score fusion (notebook 04, section 7): the retriever's cosine and one or more rerankers' scores, combined per
query.

``candidate_scores`` scores every (query, candidate) offline for tuning, ``stack_scores`` puts several rerankers'
scores side by side, ``fuse`` orders each query's first ``depth`` candidates by a weighted sum of the min-max scaled
scores, ``tune_fusion`` picks the weight and depth on validation queries, and ``rerank_with_fusion`` is the live
path, one query at a time and timed.
"""
from __future__ import annotations

import time

import numpy as np

from .checks import check_positive_int, check_queries_and_k
from .inference import score_pairs
from .metrics import mrr_at_k, recall_at_k, relevant_ranks
from .retrieval import Ranking


def candidate_scores(model, tokenizer, corpus, queries, candidates: list[list[int]],
                     precision: str = "fp32") -> list[np.ndarray]:
    """The cross-encoder's score of every (query, candidate), in each list's own order, for offline work such as
    tuning. Each query's candidates form one batch, exactly as ``rerank_with_fusion`` scores them live: the
    padding width and the batch then match, so the two paths give the same scores in any precision."""
    check_queries_and_k(queries, 1)
    if len(candidates) != len(queries):
        raise ValueError(f"{len(queries)} queries but {len(candidates)} candidate lists: give one per query")
    if any(i < 0 for pool in candidates for i in pool):
        raise ValueError("candidates hold -1 (faiss's \"no result\"): drop it first, as bi_encoder_search does")
    return [score_query(model, tokenizer, corpus, query, pool, precision) for query, pool in zip(queries, candidates)]


def score_query(model, tokenizer, corpus, query: str, pool, precision: str = "fp32") -> np.ndarray:
    """One query's candidates scored in one batch (``len(pool)`` rows; more than 64 are split as ``score_pairs``
    splits them): the live path and the offline path both call this."""
    if not len(pool):
        return np.zeros(0, dtype=np.float32)
    return score_pairs(model, tokenizer, [(query, corpus[i]) for i in pool], precision=precision, progress=False)


def min_max(scores) -> np.ndarray:
    """Scores scaled to [0, 1] within one query's list (all zeros when they are all equal)."""
    scores = np.asarray(scores, dtype=np.float64)
    spread = scores.max() - scores.min() if len(scores) else 0.0
    return (scores - scores.min()) / spread if spread > 0 else np.zeros_like(scores)


def stack_scores(*score_sets: list) -> list[np.ndarray]:
    """Several rerankers' ``candidate_scores`` of the same candidates as one (rerankers × candidates) array per
    query, which ``fuse`` reads as an ensemble."""
    if not score_sets:
        raise ValueError("no score sets: give the candidate_scores of at least one reranker")
    if len({len(scores) for scores in score_sets}) > 1:
        raise ValueError(f"the score sets cover different numbers of queries: {[len(s) for s in score_sets]}")
    stacked = []
    for query, per_reranker in enumerate(zip(*score_sets)):
        if len({len(scores) for scores in per_reranker}) > 1:
            raise ValueError(f"query {query}: the rerankers scored different numbers of candidates "
                             f"{[len(scores) for scores in per_reranker]}")
        stacked.append(np.stack(per_reranker))
    return stacked


def fuse(retrieved: Ranking, reranker_scores: list, weight: float, depth: int, k: int) -> Ranking:
    """Score fusion: re-rank the retriever's first ``depth`` candidates by ``weight`` × its cosine + (1 − weight) ×
    the reranker's score, each min-max scaled within the query's list. ``weight`` 1 keeps the retriever's order,
    0 is the reranker alone. A query's scores may be a (rerankers × candidates) array (``stack_scores``): the
    reranker's score is then the mean of their scaled scores, scaled again. ``ms_per_query`` is the retriever's
    (add the reranker's own time)."""
    if not 0 <= weight <= 1:
        raise ValueError(f"weight must lie in [0, 1], got {weight!r}")
    check_positive_int(depth, "depth")
    check_positive_int(k, "k")
    if len(reranker_scores) != len(retrieved.ids):
        raise ValueError(f"{len(retrieved.ids)} rankings but {len(reranker_scores)} score lists: give one per query")
    ids, scores = [], []
    for pool, cosines, pool_scores in zip(retrieved.ids, retrieved.scores, reranker_scores):
        pool_scores = np.atleast_2d(pool_scores)  # one row per reranker
        if pool_scores.shape[1] != len(pool):
            raise ValueError(f"a query has {len(pool)} candidates but {pool_scores.shape[1]} reranker scores")
        pool, cosines = pool[:depth], cosines[:depth]
        reranked = min_max(np.mean([min_max(row[:depth]) for row in pool_scores], axis=0))
        fused = weight * min_max(cosines) + (1 - weight) * reranked
        order = np.argsort(-fused, kind="stable")[:k]  # ties keep the retriever's order
        ids.append([pool[j] for j in order])
        scores.append([float(fused[j]) for j in order])
    return Ranking(ids, scores, retrieved.ms_per_query)


def tune_fusion(retrieved: Ranking, reranker_scores: list, corpus, relevant, weights, depths, k: int = 10):
    """Every (weight, depth) of the grid scored by MRR@k on these (validation) queries: a DataFrame, best first."""
    import pandas as pd

    rows = []
    for depth in depths:
        for weight in weights:
            ranks = relevant_ranks(fuse(retrieved, reranker_scores, weight, depth, k), corpus, relevant)
            rows.append({"weight": float(weight), "depth": int(depth), "recall@1": recall_at_k(ranks, 1),
                         f"mrr@{k}": mrr_at_k(ranks, k)})
    return pd.DataFrame(rows).sort_values([f"mrr@{k}", "recall@1", "depth"], ascending=[False, False, True],
                                          kind="stable").reset_index(drop=True)


def rerank_with_fusion(rerankers: list, corpus, queries, retrieved: Ranking, weight: float, depth: int,
                       k: int, precision: str = "fp32") -> Ranking:
    """The live pipeline after retrieval: one query at a time, each reranker in ``rerankers`` (a list of
    ``(model, tokenizer)``) scores the retriever's first ``depth`` candidates and ``fuse`` orders them;
    ``ms_per_query`` adds the retriever's time to the rerankers'."""
    check_queries_and_k(queries, k)
    if not rerankers:
        raise ValueError("rerankers is empty: give at least one (model, tokenizer)")
    if len(retrieved.ids) != len(queries):
        raise ValueError(f"{len(queries)} queries but {len(retrieved.ids)} rankings: give one per query")
    start = time.perf_counter()
    scores = [np.stack([score_query(model, tokenizer, corpus, query, ids[:depth], precision)
                        for model, tokenizer in rerankers]) for query, ids in zip(queries, retrieved.ids)]
    elapsed_ms = 1000 * (time.perf_counter() - start) / len(queries)
    shallow = Ranking([ids[:depth] for ids in retrieved.ids], [s[:depth] for s in retrieved.scores], 0.0)
    fused = fuse(shallow, scores, weight, depth, k)
    fused.ms_per_query = retrieved.ms_per_query + elapsed_ms
    return fused


def first_place_changes(retrieved: Ranking, fused: Ranking, corpus, queries, relevant, rerankers: dict,
                        wanted: str, limit: int = 3):
    """Up to ``limit`` queries whose relevant sentence the fusion moved to first place (``wanted="up"``) or away
    from it (``"down"``): both first candidates, their ranks, the cosine and each reranker's own (unscaled) score;
    ``rerankers`` maps a name to ``(model, tokenizer)``."""
    import pandas as pd

    before, after = relevant_ranks(retrieved, corpus, relevant), relevant_ranks(fused, corpus, relevant)
    picked = [q for q, (b, f) in enumerate(zip(before, after))
              if (wanted == "up" and f == 1 and b != 1) or (wanted == "down" and b == 1 and f != 1)][:limit]
    rows = []
    for q in picked:
        shown = list(dict.fromkeys([retrieved.ids[q][0], fused.ids[q][0]]))
        raw = {name: score_pairs(model, tokenizer, [(queries[q], corpus[i]) for i in shown], progress=False)
               for name, (model, tokenizer) in rerankers.items()}
        cosines = dict(zip(retrieved.ids[q], retrieved.scores[q]))
        for j, i in enumerate(shown):
            rows.append({"query": queries[q], "candidate": corpus[i], "relevant": corpus[i] == relevant[q],
                         "bi-encoder rank": list(retrieved.ids[q]).index(i) + 1,
                         "fused rank": list(fused.ids[q]).index(i) + 1 if i in fused.ids[q] else None,
                         "cosine": round(float(cosines[i]), 3), **{name: round(float(raw[name][j]), 3) for name in raw}})
    return pd.DataFrame(rows)
