"""``pipeline("sentence-similarity")``: the bi-encoder as a real transformers Pipeline.

Taught in notebook 03 (part 1 writes the seed's plain pipeline class; this is the registered version), in the
cell marked ``#@save textsim/pipelines.py``. Call ``register_pipeline()`` before ``pipeline("sentence-similarity")``.
"""
from __future__ import annotations

import torch.nn.functional as F
from transformers.pipelines import PIPELINE_REGISTRY

from .biencoder import SIDES, BiEncoder, tokenize_side
from .checks import check_max_length, check_threshold
from .data import LABEL_NAMES
from .inference import PairPipeline


class SentenceSimilarityPipeline(PairPipeline):
    """Scores one pair or a list of pairs: ``{"score": cosine, "label": 相似 | 不相似}``. ``threshold`` defaults
    to the one saved in the model's config; ``return_vectors=True`` adds both vectors."""

    def _sanitize_parameters(self, threshold=None, return_vectors=None, max_length=None):
        limit = self.model.config.max_position_embeddings
        preprocess = {} if max_length is None else {"max_length": check_max_length(max_length, limit)}
        postprocess = {} if threshold is None else {"threshold": check_threshold(threshold)}
        if return_vectors is not None:
            postprocess["return_vectors"] = bool(return_vectors)
        return preprocess, {}, postprocess

    def preprocess(self, pair, max_length=None):
        max_length = max_length or min(self.tokenizer.model_max_length, self.model.config.max_position_embeddings)
        inputs = {}
        for side, key in zip(SIDES, ("text", "text_pair")):
            inputs.update(tokenize_side(self.tokenizer, pair[key], side, max_length, return_tensors="pt"))
        return inputs

    def _forward(self, inputs):
        vectors = [F.normalize(self.model.embed(inputs[f"input_ids_{side}"], inputs[f"attention_mask_{side}"])
                               .float(), dim=-1) for side in SIDES]
        return {"vectors_1": vectors[0], "vectors_2": vectors[1], "score": (vectors[0] * vectors[1]).sum(-1)}

    def postprocess(self, outputs, threshold=None, return_vectors=False):
        threshold = self.model.config.threshold if threshold is None else threshold
        score = float(outputs["score"].reshape(-1)[0])
        result = {"score": score, "label": LABEL_NAMES[int(score >= threshold)]}
        if return_vectors:
            result.update({f"vectors_{side}": outputs[f"vectors_{side}"].reshape(-1).tolist() for side in SIDES})
        return result


TASK = "sentence-similarity"


def register_pipeline() -> None:
    """Makes ``pipeline("sentence-similarity")`` build a ``SentenceSimilarityPipeline``; a second call does nothing."""
    if PIPELINE_REGISTRY.supported_tasks.get(TASK, {}).get("impl") is not SentenceSimilarityPipeline:
        PIPELINE_REGISTRY.register_pipeline(TASK, pipeline_class=SentenceSimilarityPipeline, pt_model=BiEncoder)
