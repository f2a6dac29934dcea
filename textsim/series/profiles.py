"""Run profiles (smoke / local / paper) and the training recipes whose hyper-parameters they set.

Taught in notebook 01 (its first, ``parameters``-tagged cell); every notebook loads its profile through
``textsim.start_run`` (run.py), which also owns every path. The only module that reads the environment.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from ..models import OFFLINE_CROSS_MODEL, OFFLINE_MODEL


def find_project_root() -> Path:
    """The checkout: this package's parent in an editable install, else the working folder or its parent (a
    notebook runs in notebooks/) when it holds the series' notebooks."""
    package_parent = Path(__file__).resolve().parents[2]  # textsim/series/profiles.py
    if (package_parent / "notebooks").is_dir():
        return package_parent
    for folder in (Path.cwd(), Path.cwd().parent):
        if (folder / "notebooks").is_dir() and (folder / "pyproject.toml").is_file():
            return folder.resolve()
    return package_parent


PROJECT_ROOT = find_project_root()
PAPER_MODEL = "hfl/chinese-macbert-base"
JOBS = ("cross", "bi")  # a cross-encoder reads both sentences at once; a bi-encoder encodes each alone


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

    def model_for(self, job: str) -> str:
        """The base model of a job: "cross" (the cross-encoders) or "bi" (the bi-encoders)."""
        return getattr(self, f"{check_job(job)}_model")

    def schedule(self, hyper: str) -> tuple[float, float]:
        """``(learning_rate, epochs)`` of a recipe's hyper-parameter group: "cross", "original_bi" or "improved_bi"."""
        return getattr(self, f"{hyper}_lr"), getattr(self, f"{hyper}_epochs")


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


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One training run of the series; the results rows name it by ``title``, as the notebooks do."""

    name: str  # python -m textsim.train --recipe NAME
    job: str  # "cross" or "bi": its base model is Profile.model_for(job)
    notebook: str  # the notebook that trains it
    title: str
    hyper: str  # its learning rate and epochs: Profile.schedule(hyper)
    saved_as: str  # Run.trained_model(saved_as): how later notebooks find the saved model
    num_labels: int = 1  # cross-encoders: 2 logits (classification) or 1 score (regression)
    settings: tuple = ()  # bi-encoders: BiEncoder config fields, as (name, value) pairs
    part: str = ""  # the notebook's name for this training run (checkpoints, TensorBoard, model sub-folder)
    fixed: tuple | None = None  # (threshold, source) of the fixed cut the notebook reports
    choose: bool = True  # also report the threshold chosen on validation
    metric_threshold: float | None = 0.5  # trainer_metrics(threshold): None picks the best cut per evaluation

    @property
    def command_run(self) -> str:
        """The run's name under ``python -m textsim.train --recipe NAME`` (its folders, its results file)."""
        return f"train_{self.name}"


RECIPES = {recipe.name: recipe for recipe in (
    Recipe("classification", "cross", "01_cross_encoder_classification", "cross-encoder (classification)", "cross",
           "cross_encoder", num_labels=2, fixed=(0.5, "fixed (argmax of 2 logits)"), choose=False),
    Recipe("regression", "cross", "02_cross_encoder_regression", "cross-encoder (regression)", "cross",
           "regression", fixed=(0.5, "fixed 0.5 (original)")),
    Recipe("bi-original", "bi", "03_bi_encoder", "bi-encoder original recipe (pooler + CosineEmbeddingLoss)",
           "original_bi", "bi_encoder_original",
           settings=(("pooling", "pooler"), ("loss", "cosine_embedding"), ("margin", 0.3), ("threshold", 0.8)),
           part="original_recipe", fixed=(0.8, "fixed 0.8 (original)"), metric_threshold=0.8),
    Recipe("bi-improved", "bi", "03_bi_encoder", "bi-encoder improved (mean + contrastive)", "improved_bi",
           "bi_encoder_improved", settings=(("pooling", "mean"), ("loss", "contrastive"), ("margin", 0.5)),
           part="improved", metric_threshold=None),
)}


def recipe_named(name: str) -> Recipe:
    """The recipe a command line names (code passes ``Recipe`` objects)."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose one of {sorted(RECIPES)}")
    return RECIPES[name]


def load_profile(name: str | None = None, model: str | None = None, cross_model: str | None = None,
                 bi_model: str | None = None, jobs=JOBS) -> Profile:
    """Profile from ``name``, else ``$TEXTSIM_PROFILE``, else ``local``. Each job's base model, first given wins:
    its own argument, ``model`` (for each job of ``jobs``), ``$TEXTSIM_CROSS_MODEL`` / ``$TEXTSIM_BI_MODEL``,
    ``$TEXTSIM_MODEL`` (both jobs), the profile's."""
    source = "argument" if name else "TEXTSIM_PROFILE" if os.environ.get("TEXTSIM_PROFILE") else "default"
    name = name or os.environ.get("TEXTSIM_PROFILE") or "local"
    if name not in PROFILES:
        raise ValueError(f"Unknown profile {name!r} (from {source}); choose one of {sorted(PROFILES)}")
    profile = PROFILES[name]
    given = {"cross": cross_model, "bi": bi_model}
    for job in jobs:
        given[check_job(job)] = given[job] or model
    chosen = {job: given[job] or os.environ.get(f"TEXTSIM_{job.upper()}_MODEL") or os.environ.get("TEXTSIM_MODEL")
              or profile.model_for(job) for job in JOBS}
    return dataclasses.replace(profile, cross_model=chosen["cross"], bi_model=chosen["bi"])


def check_job(job: str) -> str:
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}; a job is one of {JOBS}")
    return job


def project_relative(path, root: Path = PROJECT_ROOT) -> str:
    """``path`` relative to the project (``root``) when it lies inside it: no machine paths in outputs or logs."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)
