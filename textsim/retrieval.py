"""Retrieve and rerank (召回排序): a faiss index over bi-encoder vectors, a cross-encoder over the top k.

Taught in notebook 04, whose ``#@save`` cells show ``VectorIndex``, the two rankers and the metrics (Recall@k,
MRR@k) exactly as written here; the ranking benchmark in ``benchmarks/`` uses ``VectorIndex`` too.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import faiss
import numpy as np
from tqdm.auto import tqdm

from .inference import check_positive_int, score_pairs, show_progress


def distinct_sentences(rows) -> list[str]:
    """Every distinct sentence of the pairs, in order of first appearance."""
    return list(dict.fromkeys(s for row in rows for s in (row["sentence1"], row["sentence2"])))


def positive_queries(dataset) -> list[tuple[str, str]]:
    """(query, relevant document) for each 相似 pair: the query is sentence1, the document sentence2."""
    return [(row["sentence1"], row["sentence2"]) for row in dataset if row["label"] == 1]


def cap_corpus(corpus: list[str], must_keep: list[str], limit: int | None, seed: int = 42) -> list[str]:
    """``limit`` distinct sentences at most: all of ``must_keep`` (the relevant documents), the rest sampled."""
    if limit is None or limit >= len(corpus):
        return corpus
    keep = list(dict.fromkeys(must_keep))
    if len(keep) > limit:
        raise ValueError(f"must_keep holds {len(keep)} distinct sentences, more than the limit of {limit}")
    kept = set(keep)
    others = [s for s in dict.fromkeys(corpus) if s not in kept]
    rng = np.random.default_rng(seed)
    sampled = rng.choice(len(others), size=min(limit - len(keep), len(others)), replace=False)
    return keep + [others[i] for i in sorted(sampled)]


class VectorIndex:
    """Exact inner-product search (``faiss.IndexFlatIP``) over unit vectors, i.e. cosine similarity."""

    def __init__(self, vectors: np.ndarray):
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def __len__(self) -> int:
        return self.index.ntotal

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and ids of the k nearest per query; id -1 (score: float32's lowest) past the index's size."""
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


@dataclass
class Ranking:
    """Ranked corpus positions and scores per query, and the milliseconds each query took."""

    ids: list[list[int]]
    scores: list[list[float]]
    ms_per_query: float


def check_queries_and_k(queries, k) -> None:
    if len(queries) == 0:
        raise ValueError("queries is empty: give at least one query")
    check_positive_int(k, "k")


def drop_self(ids, scores, corpus: list[str], query: str, k: int):
    """The query sentence is itself in the corpus: leave it out of its own results (and faiss's -1 "no result")."""
    kept = [(i, s) for i, s in zip(ids, scores) if i >= 0 and corpus[i] != query][:k]
    return [i for i, _ in kept], [float(s) for _, s in kept]


def bi_encoder_search(model, tokenizer, index: VectorIndex, corpus, queries, k: int) -> Ranking:
    """Encode each query and search the index (the corpus vectors were computed ahead)."""
    check_queries_and_k(queries, k)
    if len(index) != len(corpus):
        raise ValueError(f"the index holds {len(index)} vectors but the corpus has {len(corpus)} sentences")
    counts = Counter(corpus)
    depth = k + max(1, max(counts[query] for query in queries))  # room for every copy of the query itself
    start = time.perf_counter()
    found_scores, found_ids = index.search(model.encode(queries, tokenizer), depth)
    elapsed = time.perf_counter() - start
    ranked = [drop_self(i, s, corpus, q, k) for q, i, s in zip(queries, found_ids, found_scores, strict=True)]
    return Ranking([r[0] for r in ranked], [r[1] for r in ranked], 1000 * elapsed / len(queries))


def cross_encoder_rank(model, tokenizer, corpus, queries, candidates: list[list[int]], k: int,
                       progress: bool | None = None) -> Ranking:
    """Score each (query, candidate) with the cross-encoder and keep the best k per query. ``progress``: a bar over
    the queries (None: only for more than 1,000 candidates in all)."""
    check_queries_and_k(queries, k)
    if len(candidates) != len(queries):
        raise ValueError(f"{len(queries)} queries but {len(candidates)} candidate lists: give one per query")
    shown = show_progress(progress, sum(map(len, candidates)))
    start = time.perf_counter()
    ids, scores = [], []
    for query, pool in zip(queries, tqdm(candidates, disable=not shown, leave=False)):
        pool = [i for i in pool if i >= 0 and corpus[i] != query]  # -1: faiss's "no result"
        pool_scores = score_pairs(model, tokenizer, [(query, corpus[i]) for i in pool], progress=False)
        order = np.argsort(-pool_scores, kind="stable")[:k]
        ids.append([pool[j] for j in order])
        scores.append([float(pool_scores[j]) for j in order])
    return Ranking(ids, scores, 1000 * (time.perf_counter() - start) / len(queries))


def relevant_ranks(ranking: Ranking, corpus: list[str], relevant: list[str]) -> list[int | None]:
    """Rank (1 = first) of each query's relevant document in its ranking; None where it is not in the list."""
    if len(ranking.ids) != len(relevant):
        raise ValueError(f"{len(ranking.ids)} rankings but {len(relevant)} relevant documents: give one per query")
    if not relevant:
        raise ValueError("no queries to evaluate: the ranking is empty")
    ranks = []
    for ids, document in zip(ranking.ids, relevant):
        hits = [rank for rank, i in enumerate(ids, start=1) if i >= 0 and corpus[i] == document]  # -1: no result
        ranks.append(hits[0] if hits else None)
    return ranks


def recall_at_k(ranks: list[int | None], k: int) -> float:
    """Share of queries whose relevant document is among the first k."""
    if not ranks:
        raise ValueError("no queries to evaluate: ranks is empty")
    check_positive_int(k, "k")
    return float(np.mean([rank is not None and rank <= k for rank in ranks]))


def mrr_at_k(ranks: list[int | None], k: int) -> float:
    """Mean of 1/rank of the relevant document, counting 0 where it is not among the first k."""
    if not ranks:
        raise ValueError("no queries to evaluate: ranks is empty")
    check_positive_int(k, "k")
    return float(np.mean([1 / rank if rank is not None and rank <= k else 0.0 for rank in ranks]))


def ranking_metrics(ranking: Ranking, corpus: list[str], relevant: list[str], ks=(1, 5, 10)) -> dict[str, float]:
    """Recall@k for each k of ``ks`` and MRR@max(ks): the columns of the results tables."""
    ranks = relevant_ranks(ranking, corpus, relevant)
    if not ks:
        raise ValueError("ks is empty: give at least one k")
    for k in ks:
        check_positive_int(k, f"each k of ks={ks!r}")
    metrics = {f"recall@{k}": recall_at_k(ranks, k) for k in ks}
    metrics[f"mrr@{max(ks)}"] = mrr_at_k(ranks, max(ks))
    return metrics


def recall_curve(ranking: Ranking, corpus, relevant, depth: int) -> list[float]:
    """Recall@k for k = 1 .. depth, for the recall-against-k plot."""
    ranks = relevant_ranks(ranking, corpus, relevant)
    return [recall_at_k(ranks, k) for k in range(1, depth + 1)]


def faiss_latency(dimension: int, sizes, queries: int = 20, seed: int = 0) -> dict[int, float]:
    """Milliseconds per query of exact search on random unit vectors, for each corpus size."""
    rng = np.random.default_rng(seed)
    query_vectors = rng.standard_normal((queries, dimension), dtype=np.float32)
    faiss.normalize_L2(query_vectors)
    found = {}
    for size in sizes:
        vectors = rng.standard_normal((size, dimension), dtype=np.float32)
        faiss.normalize_L2(vectors)
        index = VectorIndex(vectors)
        index.search(query_vectors[:1], 10)  # warm-up
        start = time.perf_counter()
        for vector in query_vectors:  # one query at a time, as a live service would
            index.search(vector[None, :], 10)
        found[size] = 1000 * (time.perf_counter() - start) / queries
        del index, vectors
    return found


def ivf_tradeoff(vectors: np.ndarray, queries: np.ndarray, nprobes, nlist: int | None = None, k: int = 10,
                 seed: int = 0) -> list[dict]:
    """Approximate search (``faiss.IndexIVFFlat``: the vectors split into ``nlist`` clusters, by default √N, a
    query searches the ``nprobe`` nearest) against exact search: for each nprobe, the share of the exact top k it
    finds and the milliseconds per query, one query at a time (the exact search's own row has nprobe None)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    nlist = check_positive_int(int(np.sqrt(len(vectors))) if nlist is None else nlist, "nlist")
    check_positive_int(k, "k")
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    exact = VectorIndex(vectors)
    truth, exact_ms = timed_search(exact.index, queries, k)
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(vectors.shape[1]), vectors.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(seed).choice(len(vectors), size=min(len(vectors), 50 * nlist), replace=False)
    ivf.train(vectors[np.sort(sample)])  # k-means on a sample: 50 vectors per cluster are plenty
    ivf.add(vectors)
    rows = [{"nprobe": None, "recall_of_exact": 1.0, "ms_per_query": exact_ms}]
    for nprobe in nprobes:
        ivf.nprobe = check_positive_int(nprobe, "each nprobe")
        found, ms = timed_search(ivf, queries, k)
        overlap = np.mean([len(set(a) & set(b)) / k for a, b in zip(found, truth)])
        rows.append({"nprobe": nprobe, "recall_of_exact": float(overlap), "ms_per_query": ms})
    return rows


def timed_search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """The ids each query finds, one query at a time as a live service would, and the milliseconds per query."""
    index.search(queries[:1], k)  # warm-up
    start = time.perf_counter()
    found = np.vstack([index.search(query[None, :], k)[1] for query in queries])
    return found, 1000 * (time.perf_counter() - start) / len(queries)


