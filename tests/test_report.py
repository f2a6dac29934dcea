"""textsim.report, the runner of ``make run`` / ``make publish``: a failure or Ctrl-C leaves the committed results,
notebooks and README untouched; a complete run updates them together."""
import json

import nbformat
import pytest

from textsim import report, summary
from textsim.config import PROFILES


@pytest.fixture
def workspace(unit_results, tmp_path, monkeypatch):
    """The unit profile's results (conftest), a README with a results block, and two notebooks to run."""
    profile, results = unit_results
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{summary.README_START}\nOLD\n{summary.README_END}\n", encoding="utf-8")
    monkeypatch.setattr(summary, "README", readme)
    sources = []
    for name in ("01_cross_encoder_classification", "02_cross_encoder_regression"):
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("PROFILE = None")])
        sources.append(tmp_path / f"{name}.ipynb")
        nbformat.write(notebook, sources[-1])
    return profile, results, readme, sources


def snapshot(*folders):
    return {p: p.read_bytes() for folder in folders for p in sorted(folder.rglob("*"))
            if p.is_file() and "executed" not in p.parts}


def fake_execute(outcomes):
    """An execute_notebook that writes a new results file, then raises what ``outcomes`` names for the notebook."""
    def execute(source, target, profile, **kwargs):
        record = {"model": "m3e-small", "device": "cpu", "profile": profile.name, "rows": []}
        (profile.results_dir / f"{source.stem}.json").write_text(json.dumps(record), encoding="utf-8")
        notebook = nbformat.read(source, as_version=4)
        notebook.cells.insert(1, nbformat.v4.new_code_cell("PROFILE = 'smoke'", metadata={
            "tags": ["injected-parameters"], "papermill": {"duration": 1.0}}))
        notebook.metadata["papermill"] = {"parameters": {"PROFILE": "smoke"}}
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        if outcomes.get(source.stem):
            raise outcomes[source.stem]
        return 6.0
    return execute


@pytest.mark.parametrize("failure", [RuntimeError(""), RuntimeError("boom\n"), KeyboardInterrupt()])
def test_a_failed_or_interrupted_run_leaves_results_and_notebooks_untouched(workspace, monkeypatch, failure,
                                                                            capsys):
    profile, results, readme, sources = workspace
    before = snapshot(results, readme.parent)
    outcomes = {"02_cross_encoder_regression": failure}
    monkeypatch.setattr(report, "execute_notebook", fake_execute(outcomes))
    code = report.run([str(s) for s in sources], profile, publish=True)
    assert code == (130 if isinstance(failure, KeyboardInterrupt) else 1)
    assert snapshot(results, readme.parent) == before
    out = capsys.readouterr().out
    assert "02_cross_encoder_regression" in out and ("FAILED" in out or "Interrupted" in out)
    assert "left as they were" in out


def test_a_complete_publish_updates_results_notebooks_and_readme_together(workspace, monkeypatch):
    profile, results, readme, sources = workspace
    monkeypatch.setattr(report, "execute_notebook", fake_execute({}))
    assert report.run([str(s) for s in sources], profile, publish=True) == 0
    written = json.loads((results / "summary.json").read_text(encoding="utf-8"))
    assert written["minutes"] == {"01_cross_encoder_classification": 0.1, "02_cross_encoder_regression": 0.1}
    assert summary.readme_table(readme.read_text(encoding="utf-8")) == summary.summary_markdown(written).strip("\n")
    for source in sources:  # published without papermill's injected cell and metadata
        notebook = nbformat.read(source, as_version=4)
        assert [c.source for c in notebook.cells] == ["PROFILE = None"]
        assert "papermill" not in notebook.metadata and "papermill" not in notebook.cells[0].metadata


def test_run_without_publish_leaves_notebooks_and_readme(workspace, monkeypatch):
    profile, results, readme, sources = workspace
    before = {s: s.read_bytes() for s in [readme, *sources]}
    monkeypatch.setattr(report, "execute_notebook", fake_execute({}))
    assert report.run([str(s) for s in sources], profile) == 0
    assert {s: s.read_bytes() for s in [readme, *sources]} == before
    assert "02_cross_encoder_regression" in json.loads((results / "summary.json").read_text())["notebooks"]


def test_main_takes_the_profile_between_the_command_and_the_notebooks(workspace, monkeypatch):
    profile, results, _, sources = workspace
    monkeypatch.setitem(PROFILES, "unit", profile)
    monkeypatch.setattr(report, "execute_notebook", fake_execute({}))
    assert report.main(["run", "--profile", "unit", *map(str, sources)]) == 0
    assert json.loads((results / "summary.json").read_text())["profile"] == "unit"


def test_an_unknown_profile_is_an_error_not_a_traceback(capsys):
    assert report.main(["summary", "--profile", "nope"]) == 1
    assert "Unknown profile 'nope'" in capsys.readouterr().err


def test_a_model_that_cannot_load_stops_the_run_before_any_notebook(workspace, monkeypatch, tmp_path, capsys):
    profile, results, _, sources = workspace
    monkeypatch.setitem(PROFILES, "unit", profile)
    monkeypatch.setenv("TEXTSIM_MODEL", str(tmp_path / "no-such-model"))
    monkeypatch.setattr(report, "execute_notebook", lambda *args, **kwargs: pytest.fail("a notebook ran"))
    before = snapshot(results)
    assert report.main(["run", "--profile", "unit", *map(str, sources)]) == 1
    assert "no-such-model" in capsys.readouterr().err and snapshot(results) == before


def test_publishing_smoke_results_is_refused(workspace):
    sources = workspace[3]
    with pytest.raises(ValueError, match="smoke"):
        report.run([str(s) for s in sources], PROFILES["smoke"], publish=True)


def test_a_missing_notebook_is_named_before_anything_runs(workspace, tmp_path):
    profile = workspace[0]
    with pytest.raises(FileNotFoundError, match="nope.ipynb"):
        report.run([str(tmp_path / "nope.ipynb")], profile)


def test_summary_with_no_results_fails_and_says_so(workspace, capsys):
    profile, results, _, _ = workspace
    for path in results.glob("*.json"):
        path.unlink()
    assert report.main(["summary", "--profile", "smoke"]) == 1
    assert "no results" in capsys.readouterr().err

# --- Real notebook execution with papermill, on a notebook of two cells. ---

KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


@pytest.mark.slow
def test_execute_notebook_injects_the_profile_and_names_a_failing_cell(tmp_path, monkeypatch):
    import os

    monkeypatch.setenv("TEXTSIM_PROFILE", "local")
    cells = [nbformat.v4.new_code_cell("PROFILE = None", metadata={"tags": ["parameters"]}),
             nbformat.v4.new_code_cell("import os\nprint(PROFILE, os.path.basename(os.getcwd()))")]
    source = tmp_path / "nb" / "ok.ipynb"
    source.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=KERNEL), source)
    target = tmp_path / "out" / "ok.ipynb"
    assert report.execute_notebook(source, target, PROFILES["smoke"]) > 0
    executed = nbformat.read(target, as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == "smoke nb\n"
    assert os.environ["TEXTSIM_PROFILE"] == "local"  # the runner's own environment is left alone
    cells.append(nbformat.v4.new_code_cell("raise ValueError('bad cell')"))
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=KERNEL), source)
    with pytest.raises(report.NotebookFailed, match=r"In \[\d+\] raise ValueError.*ValueError: bad cell"):
        report.execute_notebook(source, target, PROFILES["smoke"])
