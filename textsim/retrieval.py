"""Retrieve and rerank (召回排序): a faiss index over bi-encoder vectors, a cross-encoder over the top k.

Taught in notebook 04, whose ``#@save`` cells show ``VectorIndex`` and the two rankers exactly as written here
(their metrics, Recall@k and MRR@k, are in metrics.py); the ranking benchmark in ``benchmarks/`` uses
``VectorIndex`` too.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

import faiss
import numpy as np
from tqdm.auto import tqdm

from .checks import check_positive_int, check_queries_and_k, show_progress
from .inference import score_pairs


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


def query_columns(splits, name: str) -> tuple[list[str], list[str]]:
    """The queries of one split and their relevant sentences, or a ``ValueError`` when it has no 相似 pair."""
    pairs = positive_queries(splits[name])
    if not pairs:
        raise ValueError(f"the {name} split has no 相似 pair (label 1), so it gives no query: "
                         f"give it at least one, or a larger split")
    return [query for query, _ in pairs], [document for _, document in pairs]


class RetrievalTask(NamedTuple):
    """The corpus and the queries of notebooks 04 and 05. Test queries are reported, validation queries choose the
    settings; each query has one known relevant sentence."""

    corpus: list[str]
    queries: list[str]
    relevant: list[str]
    val_queries: list[str]
    val_relevant: list[str]


def retrieval_task(rows, splits, max_corpus: int | None = None, seed: int = 42) -> RetrievalTask:
    """Every distinct sentence of ``rows`` is the corpus (at most ``max_corpus``, the relevant ones always kept);
    each 相似 pair of the test and validation splits is a query (sentence1) and its relevant sentence (sentence2)."""
    queries, relevant = query_columns(splits, "test")
    val_queries, val_relevant = query_columns(splits, "validation")
    corpus = cap_corpus(distinct_sentences(rows), relevant + val_relevant, max_corpus, seed=seed)
    return RetrievalTask(corpus, queries, relevant, val_queries, val_relevant)


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


def search_latency(model, tokenizer, index: VectorIndex, queries, k: int) -> float:
    """Milliseconds per query as a live service sees them: each query encoded alone, then searched (the rankers'
    own ``ms_per_query`` is measured the same way, one query at a time)."""
    check_queries_and_k(queries, k)
    index.search(model.encode(queries[:1], tokenizer, progress=False), k)  # warm-up
    start = time.perf_counter()
    for query in queries:
        index.search(model.encode([query], tokenizer, progress=False), k)
    return 1000 * (time.perf_counter() - start) / len(queries)

