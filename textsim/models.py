"""Loading a pretrained checkpoint so that nothing but the task head is ever trained from random values.

``from_pretrained`` fills every weight the checkpoint lacks with random values and only logs it (and
``quiet_logs`` hides that log). Loading an ALBERT checkpoint into ``BertForSequenceClassification``, for example,
trains a randomly initialised BERT. Used by notebooks 01-03 for every model they start from.
"""
from __future__ import annotations

# Layers that a task model adds on top of the encoder: new by design, trained from scratch. The pooler (a dense
# layer on [CLS]) counts too: checkpoints pretrained with MLM alone, such as ckiplab's albert-tiny-chinese, lack it.
HEAD_PREFIXES = ("classifier.", "score.", "pre_classifier.", "qa_outputs.")


ADVICE = ("Use a checkpoint of the architecture the class expects (the bi-encoder is a BERT subclass), or "
          "AutoModelForSequenceClassification for a cross-encoder.")


class ModelLoadError(RuntimeError):
    """A checkpoint that does not fit the model class: its encoder would start from random values."""


def load_pretrained(model_class, name_or_path: str, **kwargs):
    """``model_class.from_pretrained(name_or_path, **kwargs)``, refused if any encoder weight is missing.

    Returns the model and the names of the newly initialised head (and pooler) weights: training starts them from
    random values.
    """
    try:
        model, info = model_class.from_pretrained(name_or_path, output_loading_info=True, **kwargs)
    except RuntimeError as error:  # weights of the same name but another shape: another architecture
        if "mismatched" not in str(error):
            raise
        raise ModelLoadError(f"{name_or_path}: weights of another shape than {model_class.__name__} expects. "
                             f"{ADVICE}") from None
    missing = sorted(info["missing_keys"])
    encoder = [key for key in missing if not is_head(key)]
    if encoder:
        shown = ", ".join(encoder[:4]) + (f" and {len(encoder) - 4} more" if len(encoder) > 4 else "")
        raise ModelLoadError(
            f"{name_or_path} (model_type {model.config.model_type!r}) lacks {len(encoder)} encoder weights that "
            f"{model_class.__name__} needs ({shown}); they would be trained from random values. {ADVICE}")
    return model, [key for key in missing if is_head(key)]


def is_head(weight: str) -> bool:
    return weight.startswith(HEAD_PREFIXES) or weight.startswith("pooler.") or ".pooler." in weight
