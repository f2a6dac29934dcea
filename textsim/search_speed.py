"""How fast a vector index answers one query at a time: exact search over growing random corpora, and approximate
search (IVF) against exact search on real vectors. Taught in notebook 05 (section 5).
"""
from __future__ import annotations

import time

import faiss
import numpy as np

from .checks import check_positive_int
from .retrieval import VectorIndex


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
