"""textsim.series.run: every path of a notebook's run under a profile, its results file, and ``start_run``.

Each test points its run at ``tmp_path`` with ``Run(..., root=tmp_path)``: nothing is written into the checkout.
"""
import dataclasses
import json
import os
from datetime import datetime
from importlib.metadata import version

import numpy as np
import pytest

from textsim.series.profiles import PROFILES, PROJECT_ROOT
from textsim.series.results import ResultsError, library_versions
from textsim.series.run import NOTEBOOKS, TRAINED_MODELS, Run, start_run

FIRST, SECOND, BI, LAST, TRAINS_RERANKERS, LEVERS = NOTEBOOKS


@pytest.fixture
def profile():
    return dataclasses.replace(PROFILES["smoke"], name="unit", cross_model="tiny-model", bi_model="tiny-bi", seed=5)


@pytest.fixture
def run(profile, tmp_path):
    return Run(profile, FIRST, root=tmp_path)


@pytest.fixture
def clean_env(monkeypatch):
    for variable in ("TEXTSIM_PROFILE", "TEXTSIM_MODEL", "TEXTSIM_CROSS_MODEL", "TEXTSIM_BI_MODEL"):
        monkeypatch.delenv(variable, raising=False)


def test_the_series_is_the_notebooks_folder_in_order():
    assert NOTEBOOKS == ("01_cross_encoder_classification", "02_cross_encoder_regression", "03_bi_encoder",
                         "04_retrieve_and_rerank", "05_rerankers_for_ranking", "06_accuracy_levers")
    assert list(NOTEBOOKS) == sorted(p.stem for p in (PROJECT_ROOT / "notebooks").glob("*.ipynb"))


# --- paths ---------------------------------------------------------------------------------------------------------

def test_every_path_lies_under_the_root(run, tmp_path):
    assert run.root == tmp_path
    assert run.models_dir == tmp_path / "models" / "unit"
    assert run.results_dir == tmp_path / "results" / "unit"
    assert run.notebook_file() == tmp_path / "notebooks" / f"{FIRST}.ipynb"
    assert run.notebook_file(LAST) == tmp_path / "notebooks" / f"{LAST}.ipynb"
    assert run.model_dir() == tmp_path / "models" / "unit" / FIRST
    assert run.model_dir("improved") == tmp_path / "models" / "unit" / FIRST / "improved"
    assert run.checkpoint_dir() == tmp_path / "build" / "checkpoints" / "unit" / FIRST
    assert run.checkpoint_dir("original") == tmp_path / "build" / "checkpoints" / "unit" / f"{FIRST}_original"
    assert run.tensorboard_dir() == tmp_path / "runs" / "unit" / FIRST
    assert run.tensorboard_dir("original") == tmp_path / "runs" / "unit" / f"{FIRST}_original"
    assert run.results_path() == tmp_path / "results" / "unit" / f"{FIRST}.json"
    assert run.results_path(BI) == tmp_path / "results" / "unit" / f"{BI}.json"
    assert list(tmp_path.iterdir()) == []  # paths are only computed: nothing is created


def test_the_default_root_is_the_checkout(profile):
    assert Run(profile, FIRST).root == PROJECT_ROOT
    assert (PROJECT_ROOT / "notebooks" / f"{FIRST}.ipynb").is_file()


PATHS = {
    "models_dir": lambda r: r.models_dir, "results_dir": lambda r: r.results_dir,
    "model_dir": lambda r: r.model_dir(), "model_dir(part)": lambda r: r.model_dir("improved"),
    "checkpoint_dir": lambda r: r.checkpoint_dir(), "checkpoint_dir(part)": lambda r: r.checkpoint_dir("a"),
    "tensorboard_dir": lambda r: r.tensorboard_dir(), "tensorboard_dir(part)": lambda r: r.tensorboard_dir("a"),
    "results_path": lambda r: r.results_path(),
}
NOTEBOOK_PATHS = [name for name in PATHS if name not in ("models_dir", "results_dir")]


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_paths_are_per_profile(profile, tmp_path, path):
    other = dataclasses.replace(profile, name="other")
    here, there = path(Run(profile, FIRST, root=tmp_path)), path(Run(other, FIRST, root=tmp_path))
    assert here != there and "unit" in here.parts and "other" in there.parts


@pytest.mark.parametrize("path", [PATHS[name] for name in NOTEBOOK_PATHS], ids=NOTEBOOK_PATHS)
def test_paths_are_per_notebook(profile, tmp_path, path):
    found = {path(Run(profile, notebook, root=tmp_path)) for notebook in NOTEBOOKS}
    assert len(found) == len(NOTEBOOKS)


def test_parts_of_one_notebook_do_not_share_folders(run):
    for folder in (run.model_dir, run.checkpoint_dir, run.tensorboard_dir):
        assert len({folder(part) for part in ("", "original", "improved")}) == 3


# --- models saved by earlier notebooks ------------------------------------------------------------------------------

SAVED_BY = {"cross_encoder": (FIRST, ""), "regression": (SECOND, ""), "bi_encoder_original": (BI, "original_recipe"),
            "bi_encoder_improved": (BI, "improved")}


@pytest.mark.parametrize("name", sorted(SAVED_BY))
def test_trained_model_is_where_its_notebook_saved_it(profile, tmp_path, name):
    assert TRAINED_MODELS == SAVED_BY
    notebook, part = SAVED_BY[name]
    expected = tmp_path / "models" / "unit" / notebook / part if part else tmp_path / "models" / "unit" / notebook
    assert Run(profile, LAST, root=tmp_path).trained_model(name) == expected
    assert Run(profile, root=tmp_path).trained_model(name) == expected  # no notebook needed
    assert Run(profile, notebook, root=tmp_path).model_dir(part) == expected  # the saving side agrees


@pytest.mark.parametrize("name", ["nope", "", "cross-encoder"])
def test_an_unknown_trained_model_is_named_with_the_choices(run, name):
    with pytest.raises(ValueError, match=f"unknown trained model {name!r}") as caught:
        run.trained_model(name)
    assert all(known in str(caught.value) for known in TRAINED_MODELS)
    with pytest.raises(ValueError, match="unknown trained model"):
        run.notebooks_to_run_first(["cross_encoder", name])


def save_model(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")


def test_notebooks_to_run_first_are_those_whose_models_are_missing_in_series_order(profile, tmp_path):
    run = Run(profile, LAST, root=tmp_path)
    wanted = ["bi_encoder_improved", "regression", "cross_encoder"]
    assert run.notebooks_to_run_first(wanted) == [FIRST, SECOND, BI]
    save_model(run.trained_model("regression"))
    assert run.notebooks_to_run_first(wanted) == [FIRST, BI]
    run.trained_model("cross_encoder").mkdir(parents=True)  # a folder without config.json is not a model
    (run.trained_model("cross_encoder") / "model.safetensors").write_bytes(b"")
    assert run.notebooks_to_run_first(wanted) == [FIRST, BI]
    save_model(run.trained_model("cross_encoder"))
    assert run.notebooks_to_run_first(wanted) == [BI]
    save_model(run.trained_model("bi_encoder_improved"))
    assert run.notebooks_to_run_first(wanted) == []
    assert run.notebooks_to_run_first(["bi_encoder_original", "bi_encoder_improved"]) == [BI]  # listed once
    assert run.notebooks_to_run_first([]) == []


def test_required_models_are_their_folders_or_an_error_naming_the_notebooks_to_run(profile, tmp_path):
    run = Run(profile, LAST, root=tmp_path)
    with pytest.raises(FileNotFoundError, match=f"the models of {FIRST}, {BI} are missing under profile "
                                                f"{profile.name}: run those notebooks first"):
        run.require_models(["bi_encoder_improved", "cross_encoder"])
    for name in ("bi_encoder_improved", "cross_encoder"):
        save_model(run.trained_model(name))
    assert run.require_models(["cross_encoder", "bi_encoder_improved"]) == {
        "cross_encoder": run.trained_model("cross_encoder"),
        "bi_encoder_improved": run.trained_model("bi_encoder_improved")}


def test_models_of_another_profile_do_not_count(profile, tmp_path):
    other = Run(dataclasses.replace(profile, name="other"), LAST, root=tmp_path)
    save_model(other.trained_model("cross_encoder"))
    assert Run(profile, LAST, root=tmp_path).notebooks_to_run_first(["cross_encoder"]) == [FIRST]
    assert other.notebooks_to_run_first(["cross_encoder"]) == []


# --- results files --------------------------------------------------------------------------------------------------

def test_write_results_adds_the_context_of_the_run(run, tmp_path):
    from datasets import Dataset

    splits = {"train": Dataset.from_list([{"x": i} for i in range(5)]), "validation": [1, 2], "test": [1, 2, 3]}
    row = {"recipe": "cross", "accuracy": 0.9}
    path = run.write_results("cpu (2 threads)", splits=splits, rows=[row], train_seconds=12.5,
                             labels=["不相似", "相似"])
    assert path == tmp_path / "results" / "unit" / f"{FIRST}.json" == run.results_path()
    text = path.read_text(encoding="utf-8")
    assert "相似" in text  # readable Chinese, not \u escapes
    record = json.loads(text)
    assert record["notebook"] == FIRST
    assert (record["profile"], record["model"], record["seed"]) == ("unit", "tiny-model", 5)
    assert record["device"] == "cpu (2 threads)"
    assert record["split_sizes"] == {"train": 5, "validation": 2, "test": 3}
    assert record["rows"] == [row] and record["train_seconds"] == 12.5
    assert record["versions"] == library_versions()
    assert record["versions"]["torch"] == version("torch")
    assert record["platform"] and datetime.fromisoformat(record["finished_at"]).tzinfo is not None


def test_write_results_without_splits_has_no_split_sizes(run):
    assert "split_sizes" not in json.loads(run.write_results("cpu").read_text(encoding="utf-8"))


def test_numpy_values_are_written_as_plain_json(run):
    path = run.write_results("cpu", accuracy=np.float32(0.5), count=np.int64(3), vector=np.arange(2),
                             nested={"share": np.float64(0.25), "rows": [np.int32(7)]})
    record = json.loads(path.read_text(encoding="utf-8"))
    assert (record["accuracy"], record["count"], record["vector"]) == (0.5, 3, [0, 1])
    assert record["nested"] == {"share": 0.25, "rows": [7]}
    assert type(record["accuracy"]) is float and type(record["count"]) is int


def test_something_json_cannot_hold_is_refused(run):
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        run.write_results("cpu", thing=object())


def test_read_results_round_trip_and_none_when_absent(profile, tmp_path, run):
    later = Run(profile, LAST, root=tmp_path)
    assert later.read_results(FIRST) is None
    path = run.write_results("cpu", accuracy=0.75)
    assert later.read_results(FIRST) == json.loads(path.read_text(encoding="utf-8"))
    assert later.read_results(FIRST)["accuracy"] == 0.75
    assert Run(profile, root=tmp_path).read_results(FIRST)["notebook"] == FIRST  # no notebook needed to read
    assert later.read_results(SECOND) is None
    assert Run(dataclasses.replace(profile, name="other"), LAST, root=tmp_path).read_results(FIRST) is None


def test_write_results_overwrites(run):
    run.write_results("cpu", accuracy=0.5)
    run.write_results("cpu", accuracy=0.6)
    assert run.read_results(FIRST)["accuracy"] == 0.6


@pytest.mark.parametrize("text, message", [("{not json", "cannot be read as JSON"),
                                           ('{"profile": "unit"}', "missing field.*model")])
def test_read_results_names_a_broken_file(run, text, message):
    run.results_path().parent.mkdir(parents=True)
    run.results_path().write_text(text, encoding="utf-8")
    with pytest.raises(ResultsError, match=f"{FIRST}.json.*{message}"):
        run.read_results(FIRST)


# --- a run of the whole series (no notebook) --------------------------------------------------------------------------

NEEDS_A_NOTEBOOK = {
    "notebook_file": lambda r: r.notebook_file(), "model_dir": lambda r: r.model_dir(),
    "model_dir(part)": lambda r: r.model_dir("improved"), "checkpoint_dir": lambda r: r.checkpoint_dir("a"),
    "tensorboard_dir": lambda r: r.tensorboard_dir(), "tensorboard": lambda r: r.tensorboard(),
    "results_path": lambda r: r.results_path(), "write_results": lambda r: r.write_results("cpu"),
    "describe": lambda r: r.describe(),
}


@pytest.mark.parametrize("use", NEEDS_A_NOTEBOOK.values(), ids=NEEDS_A_NOTEBOOK.keys())
@pytest.mark.parametrize("notebook", [None, ""])
def test_a_run_without_a_notebook_refuses_notebook_paths(profile, tmp_path, use, notebook):
    with pytest.raises(ValueError, match="this Run has no notebook"):
        use(Run(profile, notebook, root=tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_run_without_a_notebook_has_the_profile_folders(profile, tmp_path):
    series = Run(profile, root=tmp_path)
    assert series.results_dir == tmp_path / "results" / "unit" and series.models_dir == tmp_path / "models" / "unit"
    assert series.results_path(BI) == tmp_path / "results" / "unit" / f"{BI}.json"
    assert series.notebook_file(BI) == tmp_path / "notebooks" / f"{BI}.ipynb"


# --- start_run ------------------------------------------------------------------------------------------------------

def test_start_run_gives_model_to_the_notebooks_job_only(clean_env, tmp_path):
    run = start_run(BI, "smoke", "some/model", root=tmp_path)
    assert run == Run(dataclasses.replace(PROFILES["smoke"], bi_model="some/model"), BI, tmp_path)
    assert run.model == "some/model"
    cross = start_run(SECOND, "smoke", "some/model", root=tmp_path)
    assert cross.profile == dataclasses.replace(PROFILES["smoke"], cross_model="some/model")
    both = start_run(LAST, "smoke", "some/model", root=tmp_path)  # 04 uses both models
    assert (both.profile.cross_model, both.profile.bi_model, both.model) == ("some/model",) * 3
    assert PROFILES["smoke"].bi_model == "m3e-small"  # the table itself is not changed


def test_the_model_of_a_run_is_its_jobs(profile, tmp_path):
    assert [Run(profile, n, tmp_path).model for n in NOTEBOOKS] == ["tiny-model", "tiny-model", "tiny-bi",
                                                                     "tiny-bi + tiny-model", "tiny-bi + tiny-model",
                                                                     "tiny-model"]
    with pytest.raises(ValueError, match="this Run has no notebook"):
        Run(profile, root=tmp_path).model


def test_own_data_gets_its_own_folders_and_is_recorded(profile, tmp_path):
    pairs = tmp_path / "mine" / "my_pairs.jsonl"
    run = Run(profile, FIRST, tmp_path, data=pairs)
    assert run.space == "unit-my_pairs"
    assert run.results_dir == tmp_path / "results" / "unit-my_pairs"
    assert run.model_dir() == tmp_path / "models" / "unit-my_pairs" / FIRST
    assert run.checkpoint_dir() == tmp_path / "build" / "checkpoints" / "unit-my_pairs" / FIRST
    assert run.tensorboard_dir() == tmp_path / "runs" / "unit-my_pairs" / FIRST
    assert "data mine/my_pairs.jsonl" in run.describe()
    record = json.loads(run.write_results("cpu").read_text(encoding="utf-8"))
    assert record["data"] == "mine/my_pairs.jsonl"
    assert "data" not in json.loads(Run(profile, FIRST, tmp_path).write_results("cpu").read_text(encoding="utf-8"))


def test_start_run_takes_a_data_file_made_absolute(clean_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = start_run(FIRST, "smoke", None, "pairs.jsonl", root=tmp_path)
    assert run.data == tmp_path / "pairs.jsonl" and run.data.is_absolute()
    assert start_run(FIRST, "smoke", root=tmp_path).data is None


def test_start_run_defaults(clean_env):
    run = start_run(FIRST)
    assert (run.profile, run.notebook, run.root) == (PROFILES["local"], FIRST, PROJECT_ROOT)
    assert start_run(FIRST, "paper").profile == PROFILES["paper"]


def test_start_run_falls_back_on_the_environment_and_writes_none(monkeypatch, tmp_path):
    monkeypatch.setenv("TEXTSIM_PROFILE", "smoke")
    monkeypatch.setenv("TEXTSIM_MODEL", "env/model")
    before = dict(os.environ)
    assert start_run(FIRST, None, None).profile == dataclasses.replace(PROFILES["smoke"], cross_model="env/model",
                                                                       bi_model="env/model")
    assert start_run(FIRST, "paper", "given/model").profile == dataclasses.replace(
        PROFILES["paper"], cross_model="given/model", bi_model="env/model")
    assert start_run(FIRST, "local").model == "env/model"
    assert dict(os.environ) == before


@pytest.mark.parametrize("notebook", ["", None, 3, ["01"]])
def test_start_run_refuses_a_missing_notebook(clean_env, notebook):
    with pytest.raises(ValueError, match="notebook must be a notebook's name"):
        start_run(notebook, "smoke")


def test_start_run_names_an_unknown_profile(clean_env):
    with pytest.raises(ValueError, match="Unknown profile 'huge'"):
        start_run(FIRST, "huge")


# --- what a notebook prints -----------------------------------------------------------------------------------------

def test_relative_hides_the_machine_path(run, tmp_path, profile):
    assert run.relative(tmp_path / "results" / "unit" / "x.json") == "results/unit/x.json"
    assert run.relative(str(run.model_dir())) == f"models/unit/{FIRST}"
    assert run.relative(tmp_path / "results" / ".." / "models") == "models"
    outside = tmp_path.parent / "elsewhere" / "x.json"
    assert run.relative(outside) == str(outside)
    assert Run(profile, FIRST).relative(PROJECT_ROOT / "results" / "local") == "results/local"


def test_describe_names_the_run(profile, tmp_path):
    text = Run(profile, BI, root=tmp_path).describe()
    assert text == f"{BI} · profile unit · model tiny-bi · 1000 train / 250 eval pairs · seed 5"
    assert "all pairs" in Run(PROFILES["local"], BI, root=tmp_path).describe()
    assert str(tmp_path) not in text


# --- TensorBoard ----------------------------------------------------------------------------------------------------

def test_tensorboard_logs_into_the_runs_folder_whatever_the_environment_says(run, tmp_path, monkeypatch):
    from transformers import TrainerControl, TrainerState, TrainingArguments
    from transformers.integrations import TensorBoardCallback

    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", str(elsewhere))
    before = dict(os.environ)
    callback = run.tensorboard("original")
    assert isinstance(callback, TensorBoardCallback)
    assert callback.logging_dir == str(run.tensorboard_dir("original"))
    assert run.tensorboard().logging_dir == str(run.tensorboard_dir())
    assert dict(os.environ) == before
    # What the Trainer does with it: the event file lands in tensorboard_dir(part).
    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to="none")
    state, control = TrainerState(), TrainerControl()
    callback.on_train_begin(args, state, control)
    callback.on_log(args, state, control, logs={"loss": 1.5})
    callback.on_train_end(args, state, control)
    assert any(p.name.startswith("events.out.tfevents") for p in run.tensorboard_dir("original").iterdir())
    assert not elsewhere.exists() and not (tmp_path / "out").exists()
