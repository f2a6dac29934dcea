"""textsim.series.runner, the runner of ``make run`` / ``make publish``: a failure or Ctrl-C leaves the committed results,
notebooks and README untouched; a complete run updates them together."""
import dataclasses
import functools
import json
import os
from pathlib import Path

import nbformat
import pytest

from textsim.series import runner, summary
from textsim.series.profiles import PROFILES
from textsim.series.run import NOTEBOOKS, Run


@pytest.fixture
def workspace(unit_results, tmp_path, monkeypatch):
    """The unit profile's results (conftest), a README with a results block, and two notebooks to run, all in a
    project rooted in tmp_path."""
    run, results = unit_results
    assert run.root == tmp_path
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{summary.README_START}\nOLD\n{summary.README_END}\n", encoding="utf-8")
    sources = []
    for name in ("01_cross_encoder_classification", "02_cross_encoder_regression"):
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("PROFILE = None")])
        sources.append(tmp_path / f"{name}.ipynb")
        nbformat.write(notebook, sources[-1])
    return run.profile, results, readme, sources


@pytest.fixture
def main_workspace(workspace, tmp_path, monkeypatch):
    """The workspace, with ``main`` working on it: its ``Run(profile)`` rooted in tmp_path, the unit profile known."""
    monkeypatch.setattr(runner, "Run", functools.partial(Run, root=tmp_path))
    monkeypatch.setitem(PROFILES, "unit", workspace[0])
    return workspace


def snapshot(*folders):
    return {p: p.read_bytes() for folder in folders for p in sorted(folder.rglob("*"))
            if p.is_file() and "executed" not in p.parts}


def fake_execute(outcomes, root):
    """An execute_notebook that writes a new results file under ``root``, then raises what ``outcomes`` names for
    the notebook."""
    def execute(source, target, profile, **kwargs):
        record = {"model": "m3e-small", "device": "cpu", "profile": profile.name, "rows": []}
        Run(profile, source.stem, root).results_path().write_text(json.dumps(record), encoding="utf-8")
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
    monkeypatch.setattr(runner, "execute_notebook", fake_execute(outcomes, readme.parent))
    code = runner.run([str(s) for s in sources], profile, publish=True, root=readme.parent)
    assert code == (130 if isinstance(failure, KeyboardInterrupt) else 1)
    assert snapshot(results, readme.parent) == before
    out = capsys.readouterr().out
    assert "02_cross_encoder_regression" in out and ("FAILED" in out or "Interrupted" in out)
    assert "left as they were" in out


def test_a_complete_publish_updates_results_notebooks_and_readme_together(workspace, monkeypatch, tmp_path):
    profile, results, readme, sources = workspace
    monkeypatch.setattr(runner, "execute_notebook", fake_execute({}, tmp_path))
    assert runner.run([str(s) for s in sources], profile, publish=True, root=tmp_path) == 0
    written = json.loads((results / "summary.json").read_text(encoding="utf-8"))
    assert written["minutes"] == {"01_cross_encoder_classification": 0.1, "02_cross_encoder_regression": 0.1}
    assert summary.readme_table(readme.read_text(encoding="utf-8")) == summary.summary_markdown(written).strip("\n")
    for source in sources:  # published without papermill's injected cell and metadata
        notebook = nbformat.read(source, as_version=4)
        assert [c.source for c in notebook.cells] == ["PROFILE = None"]
        assert "papermill" not in notebook.metadata and "papermill" not in notebook.cells[0].metadata


def test_run_without_publish_leaves_notebooks_and_readme(workspace, monkeypatch, tmp_path):
    profile, results, readme, sources = workspace
    before = {s: s.read_bytes() for s in [readme, *sources]}
    monkeypatch.setattr(runner, "execute_notebook", fake_execute({}, tmp_path))
    assert runner.run([str(s) for s in sources], profile, root=tmp_path) == 0
    assert {s: s.read_bytes() for s in [readme, *sources]} == before
    assert "02_cross_encoder_regression" in json.loads((results / "summary.json").read_text())["notebooks"]


def test_main_takes_the_profile_between_the_command_and_the_notebooks(main_workspace, monkeypatch, tmp_path):
    profile, results, _, sources = main_workspace
    monkeypatch.setattr(runner, "execute_notebook", fake_execute({}, tmp_path))
    assert runner.main(["run", "--profile", "unit", *map(str, sources)]) == 0
    assert json.loads((results / "summary.json").read_text())["profile"] == "unit"


def test_an_unknown_profile_is_an_error_not_a_traceback(capsys):
    assert runner.main(["summary", "--profile", "nope"]) == 1
    assert "Unknown profile 'nope'" in capsys.readouterr().err


def test_a_model_that_cannot_load_stops_the_run_before_any_notebook(main_workspace, monkeypatch, tmp_path, capsys):
    profile, results, _, sources = main_workspace
    monkeypatch.setenv("TEXTSIM_MODEL", str(tmp_path / "no-such-model"))
    monkeypatch.setattr(runner, "execute_notebook", lambda *args, **kwargs: pytest.fail("a notebook ran"))
    before = snapshot(results)
    assert runner.main(["run", "--profile", "unit", *map(str, sources)]) == 1
    assert "no-such-model" in capsys.readouterr().err and snapshot(results) == before


def test_publishing_smoke_results_is_refused(workspace):
    sources = workspace[3]
    with pytest.raises(ValueError, match="smoke"):
        runner.run([str(s) for s in sources], PROFILES["smoke"], publish=True)


def test_a_missing_notebook_is_named_before_anything_runs(workspace, tmp_path):
    profile = workspace[0]
    with pytest.raises(FileNotFoundError, match="nope.ipynb"):
        runner.run([str(tmp_path / "nope.ipynb")], profile)


def test_summary_with_no_results_fails_and_says_so(main_workspace, monkeypatch, capsys):
    profile, results, _, _ = main_workspace
    for path in results.glob("*.json"):
        path.unlink()
    assert runner.main(["summary", "--profile", "unit"]) == 1
    assert "no results under results/unit" in capsys.readouterr().err


def test_main_summary_rewrites_the_summary_of_the_root(main_workspace, monkeypatch, capsys):
    profile, results, _, _ = main_workspace
    (results / "summary.md").unlink()
    assert runner.main(["summary", "--profile", "unit"]) == 0
    assert capsys.readouterr().out == (results / "summary.md").read_text(encoding="utf-8") + "\n"


def test_published_drops_the_empty_html_a_finished_progress_bar_leaves():
    keep = [nbformat.v4.new_output("stream", name="stdout", text="done\n"),
            nbformat.v4.new_output("display_data", data={"text/html": "<b>table</b>", "text/plain": "table"})]
    empty = [nbformat.v4.new_output("display_data", data={"text/html": ["", "  \n"]}),
             nbformat.v4.new_output("display_data", data={"text/html": ""})]
    cell = nbformat.v4.new_code_cell("train()", outputs=[empty[0], keep[0], empty[1], keep[1]])
    notebook = runner.published(nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_markdown_cell("text")]))
    assert notebook.cells[0].outputs == keep and notebook.cells[1].source == "text"


# --- What travels to the notebooks: PROFILE and MODEL as parameters, never through the environment. ---

def fake_papermill(monkeypatch):
    """papermill.execute_notebook replaced by a recorder of what it is given."""
    import papermill

    calls = []
    monkeypatch.setattr(papermill, "execute_notebook", lambda source, target, **kwargs: calls.append(kwargs))
    return calls


@pytest.mark.parametrize("model, injected", [("my-model", "absolute"), ("./my-model", "absolute"),
                                             ("someone/hub-model", "someone/hub-model"),
                                             ("m3e-small", "m3e-small")])
def test_execute_notebook_injects_the_profile_and_an_absolute_model(tmp_path, monkeypatch, model, injected):
    calls = fake_papermill(monkeypatch)
    (tmp_path / "my-model").mkdir()
    monkeypatch.chdir(tmp_path)
    profile = dataclasses.replace(PROFILES["smoke"], cross_model=model, bi_model=model)
    source = tmp_path / "nb" / "ok.ipynb"
    runner.execute_notebook(source, tmp_path / "out" / "ok.ipynb", profile)
    expected = str(tmp_path / "my-model") if injected == "absolute" else injected
    assert calls[0]["parameters"] == {"PROFILE": "smoke", "CROSS_MODEL": expected, "BI_MODEL": expected}  # both jobs
    assert calls[0]["cwd"] == str(source.parent)  # the kernel runs in the notebook's folder: hence absolute


@pytest.mark.parametrize("given", ["--model", "TEXTSIM_MODEL"])
def test_main_with_a_relative_model_folder_leaves_the_environment_alone(main_workspace, monkeypatch, tmp_path,
                                                                       given):
    profile, results, _, sources = main_workspace
    folder = tmp_path / "models" / "mine"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "models")
    monkeypatch.delenv("TEXTSIM_MODEL", raising=False)
    if given == "TEXTSIM_MODEL":
        monkeypatch.setenv("TEXTSIM_MODEL", "mine")
    option = ["--model", "mine"] if given == "--model" else []
    profiles, real_execute = [], runner.execute_notebook
    execute = fake_execute({}, tmp_path)
    monkeypatch.setattr(runner, "execute_notebook", lambda source, target, profile, **kwargs: profiles.append(
        profile) or execute(source, target, profile, **kwargs))
    before = dict(os.environ)
    assert runner.main(["run", "--profile", "unit", *option, *map(str, sources)]) == 0
    assert dict(os.environ) == before
    assert [(p.cross_model, p.bi_model) for p in profiles] == [("mine", "mine")] * 2  # made absolute where it is injected (test above)
    calls = fake_papermill(monkeypatch)
    real_execute(sources[0], tmp_path / "out.ipynb", profiles[0])
    assert calls[0]["parameters"]["MODEL"] == str(folder)


def test_main_with_a_model_runs_under_that_model_without_writing_the_environment(main_workspace, monkeypatch,
                                                                                  tmp_path):
    """The whole chain, papermill aside: main -> run -> execute_notebook -> papermill's parameters."""
    profile, results, _, sources = main_workspace
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "config.json").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEXTSIM_MODEL", "some/other-model")
    calls = fake_papermill(monkeypatch)
    before = dict(os.environ)
    assert runner.main(["run", "--profile", "unit", "--model", "mine", *map(str, sources)]) == 0
    assert dict(os.environ) == before
    assert [call["parameters"] for call in calls] == [{"PROFILE": "unit", "MODEL": str(tmp_path / "mine")}] * 2


# --- Real notebook execution with papermill, on a notebook of two cells. ---

KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


@pytest.mark.slow
def test_execute_notebook_injects_the_profile_and_names_a_failing_cell(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTSIM_PROFILE", "local")
    monkeypatch.delenv("TEXTSIM_MODEL", raising=False)
    (tmp_path / "my-model").mkdir()
    monkeypatch.chdir(tmp_path)
    cells = [nbformat.v4.new_code_cell("PROFILE = None\nMODEL = None", metadata={"tags": ["parameters"]}),
             nbformat.v4.new_code_cell("import os\nprint(PROFILE, os.path.basename(os.getcwd()), MODEL, "
                                       "os.environ.get('TEXTSIM_MODEL'))")]
    source = tmp_path / "nb" / "01_cross_encoder_classification.ipynb"  # a notebook of one job: MODEL
    source.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=KERNEL), source)
    target = tmp_path / "out" / "ok.ipynb"
    before = dict(os.environ)
    profile = dataclasses.replace(PROFILES["smoke"], cross_model="my-model", bi_model="my-model")
    assert runner.execute_notebook(source, target, profile) > 0
    executed = nbformat.read(target, as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == f"smoke nb {tmp_path / 'my-model'} None\n"
    assert dict(os.environ) == before  # the runner's own environment is left alone
    cells.append(nbformat.v4.new_code_cell("raise ValueError('bad cell')"))
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=KERNEL), source)
    with pytest.raises(runner.NotebookFailed, match=r"In \[\d+\] raise ValueError.*ValueError: bad cell"):
        runner.execute_notebook(source, target, PROFILES["smoke"])


# --- Progress bars: papermill's per cell on a terminal; none of tqdm's left in a published notebook. ---

TQDM_WIDGET = {"application/vnd.jupyter.widget-view+json": {"model_id": "cba9", "version_major": 2,
                                                            "version_minor": 0},
               "text/plain": "  0%|          | 0/5 [00:00<?, ?it/s]"}  # what tqdm.auto leaves under papermill


def test_published_drops_tqdm_widgets_their_state_and_text_bars():
    keep = [nbformat.v4.new_output("stream", name="stdout", text="done\n"),
            nbformat.v4.new_output("stream", name="stderr", text="UserWarning: 12%| of the pairs | 3/25 dropped\n"),
            nbformat.v4.new_output("stream", name="stderr", text="  5%|▌   | 1/20 [00:01<00:19]\nWarning: slow\n")]
    bars = [nbformat.v4.new_output("display_data", data=TQDM_WIDGET),
            nbformat.v4.new_output("stream", name="stderr",
                                   text="\r  0%|          | 0/2 [00:00<?, ?it/s]\r100%|██████████| 2/2 [00:01<00:00]\n")]
    cell = nbformat.v4.new_code_cell("encode()", outputs=[bars[0], keep[0], bars[1], keep[1], keep[2]])
    notebook = nbformat.v4.new_notebook(cells=[cell], metadata={"widgets": {"state": {}}, **KERNEL})
    notebook = runner.published(notebook)
    assert notebook.cells[0].outputs == keep and "widgets" not in notebook.metadata
    assert notebook.metadata["kernelspec"] == KERNEL["kernelspec"]


@pytest.mark.parametrize("terminal", [True, False])
def test_run_shows_papermill_bars_only_on_a_terminal(workspace, monkeypatch, terminal):
    profile, _, _, sources = workspace
    calls = []
    monkeypatch.setattr(runner, "execute_notebook", lambda *args, **kwargs: calls.append(kwargs) or 1.0)
    monkeypatch.setattr(runner.sys.stdout, "isatty", lambda: terminal)
    assert runner.execute_all(sources, sources[0].parent / "executed", profile, {}) == []
    assert [call["progress"] for call in calls] == [terminal, terminal]


@pytest.mark.slow
def test_a_published_notebook_keeps_no_progress_bar_of_forward_in_batches(tmp_path, vocab_dir):
    code = ("from transformers import BertConfig, BertModel, BertTokenizer\n"
            "from textsim.inference import forward_in_batches\n"
            f"tok = BertTokenizer.from_pretrained({str(vocab_dir)!r})\n"
            "model = BertModel(BertConfig(vocab_size=tok.vocab_size, hidden_size=8, num_hidden_layers=1, "
            "num_attention_heads=1, intermediate_size=8))\n"
            "rows = forward_in_batches(model, tok, (['今天', '天气'] * 3,), lambda x: x['attention_mask'].sum(-1), "
            "batch_size=2, progress=True)\nprint(rows.tolist())")
    source, target = tmp_path / "bar.ipynb", tmp_path / "out" / "bar.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)], metadata=KERNEL), source)
    runner.execute_notebook(source, target, PROFILES["smoke"])
    executed = nbformat.read(target, as_version=4)
    assert any(runner.WIDGET_VIEW in output.get("data", {}) for output in executed.cells[-1].outputs)
    notebook = runner.published(executed)
    assert [output["text"] for output in notebook.cells[-1].outputs] == ["[4.0, 4.0, 4.0, 4.0, 4.0, 4.0]\n"]
    assert "widgets" not in notebook.metadata


# --- Per-job models and your own data: what each notebook is given. ---

def test_notebook_parameters_give_each_notebook_its_jobs_models(tmp_path, monkeypatch):
    profile = dataclasses.replace(PROFILES["smoke"], cross_model="cross/m", bi_model="bi/m")
    first, second, bi, last, rerankers, levers = NOTEBOOKS
    assert runner.notebook_parameters(first, profile) == {"PROFILE": "smoke", "MODEL": "cross/m"}
    assert runner.notebook_parameters(second, profile)["MODEL"] == "cross/m"
    assert runner.notebook_parameters(bi, profile)["MODEL"] == "bi/m"
    assert runner.notebook_parameters(last, profile) == {"PROFILE": "smoke", "CROSS_MODEL": "cross/m",
                                                          "BI_MODEL": "bi/m"}  # 04: both, each by its job
    assert runner.notebook_parameters(rerankers, profile) == runner.notebook_parameters(last, profile)
    assert runner.notebook_parameters(levers, profile) == {"PROFILE": "smoke", "MODEL": "cross/m"}
    monkeypatch.chdir(tmp_path)
    assert runner.notebook_parameters(first, profile, Path("mine.jsonl"))["DATA"] == str(tmp_path / "mine.jsonl")


@pytest.mark.parametrize("option, message", [(["--data", "no-such.jsonl"], "No such data file"),
                                             (["--publish"], "own data")])
def test_main_refuses_a_missing_data_file_or_publishing_own_data(main_workspace, monkeypatch, tmp_path, capsys,
                                                                  option, message):
    profile, results, _, sources = main_workspace
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.jsonl").write_text("", encoding="utf-8")
    data = [] if option[0] == "--data" else ["--data", "mine.jsonl"]
    calls = fake_papermill(monkeypatch)
    assert runner.main(["run", "--profile", "unit", *option, *data, *map(str, sources)]) == 1
    assert message in capsys.readouterr().err and calls == []


def test_main_with_data_runs_into_its_own_results_folder(main_workspace, monkeypatch, tmp_path):
    profile, results, _, sources = main_workspace
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.jsonl").write_text("", encoding="utf-8")
    calls = fake_papermill(monkeypatch)
    assert runner.main(["run", "--profile", "unit", "--data", "mine.jsonl", *map(str, sources)]) == 1  # no results
    assert [call["parameters"]["DATA"] for call in calls] == [str(tmp_path / "mine.jsonl")] * len(sources)
