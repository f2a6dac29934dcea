"""textsim.search_speed: approximate search (IVF) against exact search."""
import numpy as np
import pytest

from textsim.search_speed import ivf_tradeoff


def test_ivf_tradeoff_is_exact_when_it_probes_every_cluster_and_worse_with_one():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((2000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = ivf_tradeoff(vectors, vectors[:30], nprobes=[1, 16], nlist=16, k=10)
    assert [row["nprobe"] for row in rows] == [None, 1, 16]
    assert rows[2]["recall_of_exact"] == 1.0  # all 16 clusters searched: the exact result
    assert rows[1]["recall_of_exact"] < 1.0  # one cluster of random vectors misses some neighbours
    assert all(row["ms_per_query"] > 0 for row in rows)


def test_ivf_tradeoff_refuses_a_bad_nprobe():
    vectors = np.eye(64, 8, dtype=np.float32)
    with pytest.raises(ValueError, match="each nprobe must be a positive integer"):
        ivf_tradeoff(vectors, vectors[:2], nprobes=[0], nlist=2)
