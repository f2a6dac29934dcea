"""The run: a profile, the notebook that runs under it, and every path they own.

Taught in notebook 01 (its second cell); every notebook starts with ``run = textsim.start_run(NOTEBOOK, PROFILE,
MODEL)``. Models, checkpoints, TensorBoard logs and results files all hang off ``Run.root``, so moving a folder
touches this file only, and tests point a whole run at a temporary folder with ``Run(..., root=tmp_path)``.
"""
from __future__ import annotations

import dataclasses
import platform
from datetime import datetime, timezone
from pathlib import Path

from .profiles import PROJECT_ROOT, RECIPES, Profile, load_profile, project_relative
from .results import library_versions, read_json, write_json

# The series, in the order it is read and run.
NOTEBOOKS = ("01_cross_encoder_classification", "02_cross_encoder_regression", "03_bi_encoder",
             "04_retrieve_and_rerank", "05_rerankers_for_ranking", "06_accuracy_levers")
# The models a notebook saves for later notebooks: name -> (notebook, sub-folder of its model folder).
TRAINED_MODELS = {recipe.saved_as: (recipe.notebook, recipe.part) for recipe in RECIPES.values()}
# The jobs whose base models a run starts from: each recipe's notebook and its training command, and notebooks 04
# and 05 (their retriever and rerankers).
JOBS = {**{recipe.notebook: (recipe.job,) for recipe in RECIPES.values()},
        **{recipe.command_run: (recipe.job,) for recipe in RECIPES.values()},
        "04_retrieve_and_rerank": ("bi", "cross"), "05_rerankers_for_ranking": ("bi", "cross"),
        "06_accuracy_levers": ("cross",)}


@dataclasses.dataclass(frozen=True)
class Run:
    """One notebook under one profile (``notebook=None``: the whole series, as the runner sees it)."""

    profile: Profile
    notebook: str | None = None
    root: Path = PROJECT_ROOT
    data: Path | None = None  # the pairs file; None: the tutorial's train_pair_1w.json

    @property
    def model(self) -> str:
        """The base model this notebook trains (04: its retriever's and its reranker's)."""
        models = [self.profile.model_for(job) for job in JOBS.get(self._own(), ("cross", "bi"))]
        return " + ".join(dict.fromkeys(models))

    @property
    def space(self) -> str:
        """The folder name under models/, results/, build/ and runs/: the profile's, with the data file's name
        added for your own pairs, so they never overwrite the tutorial's results."""
        return self.profile.name if self.data is None else f"{self.profile.name}-{Path(self.data).stem}"

    @property
    def models_dir(self) -> Path:
        return self.root / "models" / self.space

    @property
    def results_dir(self) -> Path:
        return self.root / "results" / self.space

    def notebook_file(self, notebook: str | None = None) -> Path:
        return self.root / "notebooks" / f"{notebook or self._own()}.ipynb"

    def model_dir(self, part: str = "") -> Path:
        """Where this notebook saves a model (``part``: a sub-folder when it saves several)."""
        folder = self.models_dir / self._own()
        return folder / part if part else folder

    def checkpoint_dir(self, part: str = "") -> Path:
        """The Trainer's ``output_dir``: checkpoints during training, under ``build/``."""
        return self.root / "build" / "checkpoints" / self.space / self._name(part)

    def tensorboard_dir(self, part: str = "") -> Path:
        """TensorBoard logs of one training run: ``tensorboard --logdir runs``."""
        return self.root / "runs" / self.space / self._name(part)

    def tensorboard(self, part: str = ""):
        """A ``TensorBoardCallback`` that logs to ``tensorboard_dir(part)``, for ``Trainer(callbacks=[...])``.

        transformers 5 has no ``TrainingArguments.logging_dir``: the callback reads its folder from the variable
        ``TENSORBOARD_LOGGING_DIR`` unless it is given one, as here.
        """
        from transformers.integrations import TensorBoardCallback

        callback = TensorBoardCallback()
        callback.logging_dir = str(self.tensorboard_dir(part))
        return callback

    def trained_model(self, name: str) -> Path:
        """The folder of a model an earlier notebook saved (see ``TRAINED_MODELS``)."""
        notebook, part = trained_model_entry(name)
        folder = self.models_dir / notebook
        return folder / part if part else folder

    def notebooks_to_run_first(self, names) -> list[str]:
        """The notebooks, in series order, whose models among ``names`` are not saved yet under this profile."""
        missing = {trained_model_entry(name)[0] for name in names
                   if not (self.trained_model(name) / "config.json").is_file()}
        return [notebook for notebook in NOTEBOOKS if notebook in missing]

    def require_models(self, names) -> dict[str, Path]:
        """The folders of the models ``names`` (see ``TRAINED_MODELS``), or a FileNotFoundError that names the
        notebooks to run first."""
        missing = self.notebooks_to_run_first(names)
        if missing:
            raise FileNotFoundError(f"the models of {', '.join(missing)} are missing under profile "
                                    f"{self.profile.name}: run those notebooks first, in order")
        return {name: self.trained_model(name) for name in names}

    def results_path(self, notebook: str | None = None) -> Path:
        return self.results_dir / f"{notebook or self._own()}.json"

    def write_results(self, device: str, splits=None, **fields) -> Path:
        """``results/<profile>/<notebook>.json``: ``fields`` with the run's context (profile, model, seed, device,
        split sizes, library versions, platform, time) added."""
        record = {"notebook": self._own(), "profile": self.profile.name, "model": self.model,
                  "seed": self.profile.seed, "device": device}
        if self.data is not None:
            record["data"] = self.relative(self.data)
        if splits is not None:
            record["split_sizes"] = {name: len(part) for name, part in splits.items()}
        record.update(fields, versions=library_versions(), platform=platform.platform(),
                      finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        return write_json(self.results_path(), record)

    def read_results(self, notebook: str) -> dict | None:
        """A notebook's results under this profile, or None when that notebook has not run yet."""
        path = self.results_path(notebook)
        return read_json(path, required=("profile", "model")) if path.is_file() else None

    def relative(self, path) -> str:
        """``path`` relative to the project when it lies inside it: no machine paths in outputs."""
        return project_relative(path, self.root)

    def describe(self) -> str:
        p = self.profile
        sizes = "all pairs" if p.max_train is None else f"{p.max_train} train / {p.max_eval} eval pairs"
        data = f" · data {self.relative(self.data)}" if self.data else ""
        return f"{self._own()} · profile {p.name} · model {self.model} · {sizes}{data} · seed {p.seed}"

    def _own(self) -> str:
        if not self.notebook:
            raise ValueError("this Run has no notebook: give Run(profile, notebook=...) for a notebook's paths")
        return self.notebook

    def _name(self, part: str) -> str:
        return f"{self._own()}_{part}" if part else self._own()


def start_run(notebook: str, profile: str | None = None, model: str | None = None, data=None,
              root: Path | None = None, cross_model: str | None = None, bi_model: str | None = None) -> Run:
    """The run of a notebook from its ``parameters`` cell: ``PROFILE`` (None: ``$TEXTSIM_PROFILE``, else
    ``local``), ``MODEL`` (None: the profile's model for this notebook's job, or the environment's, see
    ``load_profile``; given: the base model of this notebook's job; notebook 04 names each job's model by
    ``cross_model`` and ``bi_model``) and ``DATA`` (None: the tutorial's pairs)."""
    if not notebook or not isinstance(notebook, str):
        raise ValueError(f"notebook must be a notebook's name such as {NOTEBOOKS[0]!r}, got {notebook!r}")
    jobs = JOBS.get(notebook, ("cross", "bi"))
    chosen = load_profile(profile, model, cross_model=cross_model, bi_model=bi_model, jobs=jobs)
    return Run(chosen, notebook, root or PROJECT_ROOT, Path(data).expanduser().resolve() if data else None)


def trained_model_entry(name: str) -> tuple[str, str]:
    if name not in TRAINED_MODELS:
        raise ValueError(f"unknown trained model {name!r}; the series saves {sorted(TRAINED_MODELS)}")
    return TRAINED_MODELS[name]


def quiet_logs() -> None:
    """Hide library progress bars and load reports, so a notebook shows what it teaches."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()  # "Loading weights", "Writing model shards"; not the Trainer's
