"""The Makefile's recipes, read with ``make -n`` (nothing runs): the profile and Hub settings they pass on."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

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
    line = recipe_line(dry_run(target, TEXTSIM_PROFILE="smoke"), "textsim.report run")
    assert "--profile smoke" in line and "local" not in line


@pytest.mark.parametrize("target", ["run", "publish"])
def test_profile_variable_beats_textsim_profile_and_defaults_to_local(target):
    assert "--profile paper" in recipe_line(dry_run(target, "PROFILE=paper", TEXTSIM_PROFILE="smoke"),
                                            "textsim.report run")
    assert "--profile local" in recipe_line(dry_run(target), "textsim.report run")


def test_only_the_paper_profile_may_reach_the_hub():
    assert "HF_HUB_OFFLINE=1 " in recipe_line(dry_run("run"), "textsim.report run")
    assert "HF_HUB_OFFLINE=0 " in recipe_line(dry_run("run", "PROFILE=paper"), "textsim.report run")
    # A user who has the model cached may still keep the paper profile offline.
    assert "HF_HUB_OFFLINE=1 " in recipe_line(dry_run("run", "PROFILE=paper", HF_HUB_OFFLINE="1"),
                                              "textsim.report run")
    assert "HF_HUB_OFFLINE=1 " in recipe_line(dry_run("test", TEXTSIM_PROFILE="paper"), "pytest")


def test_setup_stamps_a_file_of_its_own_not_the_venv_python():
    """``touch .venv/bin/python`` follows the venv's symlink to the base interpreter."""
    output = dry_run("-B", "setup")
    touched = [line for line in output.splitlines() if line.startswith("touch ")]
    assert touched and all("bin/python" not in line for line in touched), touched
