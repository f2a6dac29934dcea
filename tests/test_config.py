import dataclasses
import time
from pathlib import Path

import pytest

import textsim
import textsim.config
from textsim.config import (OFFLINE_CROSS_MODEL, OFFLINE_MODEL, OFFLINE_MODELS, PROFILES, ModelNotFoundError,
                            load_profile, resolve_model)

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


@pytest.mark.parametrize("name", sorted(OFFLINE_MODELS))
def test_each_offline_model_resolves_to_an_installed_folder(name):
    folder = Path(resolve_model(name))
    assert (folder / "config.json").is_file()
    assert (folder / "vocab.txt").is_file() or (folder / "tokenizer.json").is_file()
    assert textsim.config.absolute_model_path(name) == name  # a name, not a folder


def test_profiles_hold_hyper_parameters_not_paths():
    """Every path belongs to ``textsim.run.Run``; the bi-encoder recipes are named original / improved."""
    names = {field.name for field in dataclasses.fields(textsim.Profile)}
    assert {"original_bi_lr", "original_bi_epochs", "improved_bi_lr", "improved_bi_epochs"} <= names
    assert not names & {"seed_bi_lr", "seed_bi_epochs", "better_bi_lr", "better_bi_epochs"}
    for attribute in ("models_dir", "results_dir", "runs_dir"):
        assert not hasattr(PROFILES["smoke"], attribute)


def test_project_root_is_this_checkout():
    root = textsim.config.PROJECT_ROOT
    assert root == Path(textsim.__file__).resolve().parent.parent == textsim.config.find_project_root()
    assert (root / "notebooks").is_dir() and (root / "pyproject.toml").is_file()


def test_project_root_of_an_installed_package_is_the_checkout_it_runs_in(tmp_path, monkeypatch):
    """Installed (not editable), the package's parent is site-packages: the checkout is the working folder, or its
    parent when a notebook runs in notebooks/."""
    site = tmp_path / "site-packages"
    monkeypatch.setattr(textsim.config, "__file__", str(site / "textsim" / "config.py"))
    checkout = tmp_path / "checkout"
    (checkout / "notebooks").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("", encoding="utf-8")
    for where in (checkout, checkout / "notebooks"):
        monkeypatch.chdir(where)
        assert textsim.config.find_project_root() == checkout.resolve()
    monkeypatch.chdir(tmp_path)
    assert textsim.config.find_project_root() == site


def test_resolve_model_returns_a_local_folder_as_is(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    assert resolve_model(str(folder)) == str(folder)


def test_resolve_model_expands_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "models" / "mine").mkdir(parents=True)
    (tmp_path / "models" / "mine" / "config.json").write_text("{}", encoding="utf-8")
    assert resolve_model("~/models/mine") == str(tmp_path / "models" / "mine")


def test_resolve_model_finds_the_installed_m3e_small():
    folder = Path(resolve_model("m3e-small"))
    assert folder.name == "m3e-small"
    assert (folder / "config.json").is_file()
    assert (folder / "tokenizer.json").is_file()


def test_offline_model_dir_reports_a_missing_package(monkeypatch):
    real_find_spec = textsim.config.importlib.util.find_spec
    monkeypatch.setattr(textsim.config.importlib.util, "find_spec",
                        lambda name, *args: None if name == "embedding" else real_find_spec(name, *args))
    with pytest.raises(ModelNotFoundError, match="make setup"):
        resolve_model("m3e-small")


def test_missing_hub_model_raises_model_not_found_quickly():
    name = "textsim-tests/surely-not-a-real-model-4f1c"
    start = time.perf_counter()
    with pytest.raises(ModelNotFoundError) as caught:
        resolve_model(name)
    assert time.perf_counter() - start < 20  # offline: no network wait
    message = str(caught.value)
    assert "TEXTSIM_MODEL" in message
    assert repr(name) in message
    assert isinstance(caught.value, RuntimeError)
    assert textsim.ModelNotFoundError is ModelNotFoundError


def test_missing_local_path_raises_model_not_found(tmp_path):
    with pytest.raises(ModelNotFoundError, match="TEXTSIM_MODEL"):
        resolve_model(str(tmp_path / "no" / "such" / "folder"))


def test_a_folder_without_config_json_is_not_a_model(tmp_path):
    (tmp_path / "vocab.txt").write_text("[PAD]\n", encoding="utf-8")
    with pytest.raises(ModelNotFoundError, match="config.json") as caught:
        resolve_model(str(tmp_path))
    assert str(tmp_path) in str(caught.value)


def test_offline_hub_miss_says_how_to_go_online(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE"):
        resolve_model("textsim-tests/surely-not-a-real-model-4f1c")


@pytest.mark.parametrize("files, weights", [
    (["config.json", "model.safetensors", "pytorch_model.bin", "vocab.txt"], "*.safetensors"),
    (["config.json", "pytorch_model.bin", "vocab.txt"], "*.bin"),
])
def test_hub_download_takes_safetensors_else_pytorch_bin(monkeypatch, tmp_path, files, weights):
    import huggingface_hub

    asked = {}

    def fake_snapshot(name, local_files_only=False, allow_patterns=None, **kwargs):
        if local_files_only:
            raise FileNotFoundError("not cached")
        asked["patterns"] = allow_patterns
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot)
    monkeypatch.setattr(huggingface_hub, "list_repo_files", lambda name, **kwargs: files)
    assert resolve_model("someone/some-model") == str(tmp_path)
    assert weights in asked["patterns"] and "*.json" in asked["patterns"]
    assert ("*.bin" in asked["patterns"]) == (weights == "*.bin")


def test_relative_model_folder_is_pinned_to_where_the_user_is(tmp_path, monkeypatch):
    from textsim.config import absolute_model_path

    (tmp_path / "my-model").mkdir()
    monkeypatch.chdir(tmp_path)
    assert absolute_model_path("my-model") == str(tmp_path / "my-model")
    assert absolute_model_path("someone/hub-id") == "someone/hub-id"  # not a folder here: a Hub id
    assert absolute_model_path(OFFLINE_MODEL) == OFFLINE_MODEL


def test_project_relative_hides_the_machine_path(tmp_path):
    from textsim.config import PROJECT_ROOT, project_relative

    assert project_relative(PROJECT_ROOT / "models" / "local" / "x") == "models/local/x"
    assert project_relative(tmp_path / "elsewhere") == str(tmp_path / "elsewhere")
