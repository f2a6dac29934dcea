"""textsim.series.profiles: each profile, the base model of each job (arguments, then the environment), the
recipes, and the project root."""
import dataclasses
from pathlib import Path

import pytest

import textsim
import textsim.series.profiles
from textsim.models import OFFLINE_CROSS_MODEL, OFFLINE_MODEL
from textsim.series.profiles import PROFILES, load_profile

MODEL_VARIABLES = ("TEXTSIM_MODEL", "TEXTSIM_CROSS_MODEL", "TEXTSIM_BI_MODEL")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv("TEXTSIM_PROFILE", raising=False)
    for variable in MODEL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def test_load_profile_defaults_to_local():
    profile = load_profile()
    assert profile == PROFILES["local"]
    assert profile.name == "local" and profile.max_train is None
    assert (profile.cross_model, profile.bi_model) == (OFFLINE_CROSS_MODEL, OFFLINE_MODEL) == (
        "albert-tiny-chinese", "m3e-small")


def test_load_profile_reads_textsim_profile(monkeypatch):
    monkeypatch.setenv("TEXTSIM_PROFILE", "smoke")
    profile = load_profile()
    assert profile.name == "smoke"
    assert profile.max_train == 1000 and profile.max_eval == 250


def test_explicit_name_beats_environment(monkeypatch):
    monkeypatch.setenv("TEXTSIM_PROFILE", "smoke")
    assert load_profile("paper").name == "paper"


def test_empty_textsim_profile_means_local(monkeypatch):
    monkeypatch.setenv("TEXTSIM_PROFILE", "")
    assert load_profile().name == "local"


@pytest.mark.parametrize("via_env", [True, False])
def test_unknown_profile_names_the_choices(monkeypatch, via_env):
    if via_env:
        monkeypatch.setenv("TEXTSIM_PROFILE", "huge")
    with pytest.raises(ValueError) as caught:
        load_profile() if via_env else load_profile("huge")
    message = str(caught.value)
    assert "'huge'" in message
    for name in ("smoke", "local", "paper"):
        assert name in message


def test_textsim_model_overrides_both_models_and_nothing_else(monkeypatch):
    monkeypatch.setenv("TEXTSIM_PROFILE", "smoke")
    monkeypatch.setenv("TEXTSIM_MODEL", "/some/local/model")
    profile = load_profile()
    assert profile == dataclasses.replace(PROFILES["smoke"], cross_model="/some/local/model",
                                          bi_model="/some/local/model")
    assert PROFILES["smoke"].cross_model == OFFLINE_CROSS_MODEL  # the table itself is not changed


@pytest.mark.parametrize("job, other", [("cross", "bi"), ("bi", "cross")])
def test_a_job_variable_overrides_its_own_model_only(monkeypatch, job, other):
    monkeypatch.setenv(f"TEXTSIM_{job.upper()}_MODEL", "/job/model")
    profile = load_profile("smoke")
    assert getattr(profile, f"{job}_model") == "/job/model"
    assert getattr(profile, f"{other}_model") == getattr(PROFILES["smoke"], f"{other}_model")
    monkeypatch.setenv("TEXTSIM_MODEL", "/both")  # the job's own variable is more specific
    profile = load_profile("smoke")
    assert (getattr(profile, f"{job}_model"), getattr(profile, f"{other}_model")) == ("/job/model", "/both")


def test_profile_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILES["local"].cross_model = "other"


def test_arguments_beat_the_environment(monkeypatch):
    monkeypatch.setenv("TEXTSIM_MODEL", "/from/the/environment")
    monkeypatch.setenv("TEXTSIM_CROSS_MODEL", "/cross/from/the/environment")
    given = load_profile("smoke", model="/given")
    assert (given.cross_model, given.bi_model) == ("/given", "/given")
    assert load_profile("smoke", model="/given", cross_model="/own").cross_model == "/own"
    assert load_profile("smoke", bi_model="/own").bi_model == "/own"
    assert load_profile("smoke", bi_model="/own").cross_model == "/cross/from/the/environment"
    assert load_profile("smoke").bi_model == "/from/the/environment"
    assert load_profile("smoke", model="").bi_model == "/from/the/environment"  # empty: not given
    for variable in MODEL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    assert load_profile("paper", model=None) == PROFILES["paper"]
    assert load_profile("paper", model="/given") == dataclasses.replace(PROFILES["paper"], cross_model="/given",
                                                                        bi_model="/given")


def test_profiles_hold_hyper_parameters_not_paths():
    """Every path belongs to ``textsim.series.run.Run``; the bi-encoder recipes are named original / improved."""
    names = {field.name for field in dataclasses.fields(textsim.Profile)}
    assert {"original_bi_lr", "original_bi_epochs", "improved_bi_lr", "improved_bi_epochs"} <= names
    assert not names & {"seed_bi_lr", "seed_bi_epochs", "better_bi_lr", "better_bi_epochs"}
    for attribute in ("models_dir", "results_dir", "runs_dir"):
        assert not hasattr(PROFILES["smoke"], attribute)


def test_project_root_is_this_checkout():
    root = textsim.series.profiles.PROJECT_ROOT
    assert root == Path(textsim.__file__).resolve().parent.parent == textsim.series.profiles.find_project_root()
    assert (root / "notebooks").is_dir() and (root / "pyproject.toml").is_file()


def test_project_root_of_an_installed_package_is_the_checkout_it_runs_in(tmp_path, monkeypatch):
    """Installed (not editable), the package's parent is site-packages: the checkout is the working folder, or its
    parent when a notebook runs in notebooks/."""
    site = tmp_path / "site-packages"
    monkeypatch.setattr(textsim.series.profiles, "__file__", str(site / "textsim" / "series" / "profiles.py"))
    checkout = tmp_path / "checkout"
    (checkout / "notebooks").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("", encoding="utf-8")
    for where in (checkout, checkout / "notebooks"):
        monkeypatch.chdir(where)
        assert textsim.series.profiles.find_project_root() == checkout.resolve()
    monkeypatch.chdir(tmp_path)
    assert textsim.series.profiles.find_project_root() == site


def test_project_relative_hides_the_machine_path(tmp_path):
    from textsim.series.profiles import PROJECT_ROOT, project_relative

    assert project_relative(PROJECT_ROOT / "models" / "local" / "x") == "models/local/x"
    assert project_relative(tmp_path / "elsewhere") == str(tmp_path / "elsewhere")


def test_model_for_and_schedule_read_a_job_and_a_hyper_parameter_group():
    profile = dataclasses.replace(PROFILES["local"], cross_model="c", bi_model="b")
    assert (profile.model_for("cross"), profile.model_for("bi")) == ("c", "b")
    assert profile.schedule("improved_bi") == (profile.improved_bi_lr, profile.improved_bi_epochs)
    with pytest.raises(ValueError, match="unknown job 'both'"):
        profile.model_for("both")


def test_a_model_argument_goes_to_the_jobs_named_only(monkeypatch):
    profile = load_profile("smoke", "mine", jobs=("bi",))
    assert (profile.cross_model, profile.bi_model) == (PROFILES["smoke"].cross_model, "mine")
    assert load_profile("smoke", "mine").cross_model == "mine"  # both jobs by default
    assert load_profile("smoke", "mine", cross_model="theirs", jobs=("cross",)).cross_model == "theirs"
