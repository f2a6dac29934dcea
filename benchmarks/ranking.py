"""Section 3, ranking the top 10 of the whole corpus for a query: the cross-encoder scoring every candidate
against the query's vector searched in a ``VectorIndex`` of corpus vectors computed ahead."""
from __future__ import annotations

import numpy as np

from textsim.inference import score_pairs
from textsim.retrieval import VectorIndex, distinct_sentences

from .timing import SEED, row, stats, timed
from .tutorial import load_bi, load_cross


def corpus_and_queries(rows, test, size) -> tuple[list[str], list[str]]:
    """The corpus (the distinct sentences of every pair, capped by ``size["corpus"]``) and the queries (the first
    sentences of the test split, one more than the repetitions at least)."""
    corpus = distinct_sentences(rows)[:size["corpus"]]
    return corpus, list(test["sentence1"])[:max(size["queries"], size["reps"] + 1)]


def measure(path, tok, corpus, queries, device, size) -> dict:
    rng = np.random.default_rng(SEED)
    cross = load_cross(path, device).eval()
    sample_size = min(size["candidates"], len(corpus))
    scale = len(corpus) / sample_size  # cross-encoder cost grows linearly with the candidates

    def cross_query(query: str) -> float:
        sample = [corpus[i] for i in rng.choice(len(corpus), sample_size, replace=False)]
        return 1000 * scale * timed(lambda: score_pairs(cross, tok, [(query, c) for c in sample], 64,
                                                                precision="auto"), device)

    score_pairs(cross, tok, [(queries[0], c) for c in corpus[:16]], 64, precision="auto")  # warm-up
    tutorial = stats([cross_query(q) for q in queries[1:size["reps"] + 1]])

    bi = load_bi(path, device, pooling="mean")
    encoded = min(size["corpus_sample"], len(corpus))
    sample = [corpus[i] for i in rng.choice(len(corpus), encoded, replace=False)]
    vectors = []
    encode_seconds = timed(lambda: vectors.append(bi.encode(sample, tok, batch_size=64, precision="auto")), device)
    encode_seconds *= len(corpus) / encoded  # encoding cost grows linearly with the corpus
    # search cost depends on the index size, not on the values: the sample's vectors, repeated to the corpus size
    index = VectorIndex(np.resize(vectors[0], (len(corpus), vectors[0].shape[1])))  # unit vectors: IP = cosine

    def bi_query(query: str) -> float:
        return 1000 * timed(lambda: index.search(bi.encode([query], tok, precision="auto"), 10), device)

    bi_query(queries[0])  # warm-up
    ours = stats([bi_query(q) for q in queries])
    note = (f"cross-encoder: score_pairs over {sample_size} random candidates, extrapolated linearly "
            f"to {len(corpus)} (x{scale:.1f}); bi-encoder: encode the query + faiss IndexFlatIP.search, "
            f"corpus vectors computed ahead (pooling=mean), index of {len(corpus)} vectors")
    ranking = row("ranking, ms per query (top 10)", "ms/query", tutorial, ours, 1000.0, higher_is_better=False,
                  note=note)
    print(f"  {ranking['name']}: {ranking['speedup']:.0f}x", flush=True)
    one_off = {"corpus_sentences": len(corpus), "encoded_sample": encoded, "encode_seconds": encode_seconds,
               "sentences_per_second": len(corpus) / encode_seconds}
    return {"rows": [ranking], "corpus_encoding": one_off,
            "notes": [f"one-off corpus encoding (bi-encoder, pooling=mean): {one_off['corpus_sentences']} "
                      f"sentences in {one_off['encode_seconds']:.1f} s ({one_off['sentences_per_second']:.0f} "
                      f"sentences/s), extrapolated from encoding {one_off['encoded_sample']} random ones"]}
