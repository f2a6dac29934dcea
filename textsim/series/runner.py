"""``make run`` / ``make publish``: execute the notebooks headless with papermill, then summarise their results.

    python -m textsim.series.runner run --profile local [--publish] notebooks/*.ipynb
    python -m textsim.series.runner summary --profile local   # only (re)write results/<profile>/summary.{json,md}
    python -m textsim.series.runner readme --profile local    # copy that summary into README.md

papermill injects the profile's name and models into each notebook's ``parameters`` cell (``PROFILE``, and
``MODEL``, or ``CROSS_MODEL`` and ``BI_MODEL`` for notebook 04): no environment variable carries them.
``results/<profile>/`` changes only when every notebook succeeds: after a failure or Ctrl-C its files are put back
as they were, and the executed copies (the failing one included) stay in ``results/<profile>/executed/``.
``--publish`` then copies the executed notebooks over the committed ones and rewrites the README's results block,
all at the very end. The summary and the README block are written by ``textsim.series.summary``.
"""
from __future__ import annotations

import argparse
import re
import signal
import sys
import time
from pathlib import Path

import nbformat

from ..models import ModelNotFoundError, absolute_model_path, resolve_model
from .profiles import Profile, load_profile, project_relative
from .results import ResultsError, deferred_interrupts
from .run import JOBS, Run
from .summary import previous_minutes, update_readme, write_atomically, write_summary

__all__ = ["NotebookFailed", "execute_notebook", "run", "main"]

INJECTED = "injected-parameters"  # papermill's tag on the cell it adds after the parameters cell


class NotebookFailed(RuntimeError):
    """A notebook stopped at a cell; the message names the cell, its first line and its error."""


def execute_notebook(source: Path, target: Path, profile: Profile, timeout: int = 3600,
                     progress: bool = False, data: Path | None = None) -> float:
    """Run ``source`` top to bottom under ``profile`` (inside its own folder); save it with outputs to ``target``.

    Only the profile's name, the notebook's model and the data file travel (``notebook_parameters``): the notebook
    loads the rest of the profile by name."""
    import papermill

    source, target = Path(source), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        parameters = notebook_parameters(source.stem, profile, data)
        papermill.execute_notebook(str(source), str(target), parameters=parameters,
                                   kernel_name="python3", cwd=str(source.resolve().parent), log_output=False,
                                   progress_bar=progress, execution_timeout=timeout)
    except papermill.PapermillExecutionError as error:
        first_line = (error.source or "").strip().splitlines()[:1]
        raise NotebookFailed(f"In [{error.exec_count}] {first_line[0] if first_line else ''!s}: "
                             f"{error.ename}: {error.evalue}") from None
    return time.perf_counter() - start


def notebook_parameters(notebook: str, profile: Profile, data: Path | None = None) -> dict:
    """The values papermill puts after a notebook's ``parameters`` cell: ``PROFILE``; ``MODEL``, the base model of
    the notebook's job, or for a notebook of two jobs (04) ``CROSS_MODEL`` and ``BI_MODEL``; ``DATA`` when a pairs
    file is given. Paths are made absolute: kernels run elsewhere."""
    jobs = JOBS.get(notebook, ("cross", "bi"))
    parameters = {"PROFILE": profile.name}
    if len(jobs) == 1:
        parameters["MODEL"] = absolute_model_path(profile.model_for(jobs[0]))
    else:
        parameters.update({f"{job.upper()}_MODEL": absolute_model_path(profile.model_for(job)) for job in jobs})
    if data is not None:
        parameters["DATA"] = str(Path(data).expanduser().resolve())
    return parameters


def run(notebooks: list[str], profile: Profile, publish: bool = False, root: Path | None = None,
        data: Path | None = None) -> int:
    """Execute each notebook; keep results, notebooks and README whole whatever happens. Returns an exit code.

    ``root``: the folder whose ``results/`` and README the runner snapshots and writes (default: this checkout;
    tests give a temporary one). The notebooks themselves always write under the checkout they run in."""
    sources = [Path(n) for n in notebooks]
    missing = [str(s) for s in sources if not s.is_file()]
    if missing:
        raise FileNotFoundError(f"No such notebook: {', '.join(missing)}")
    if publish and profile.name == "smoke":
        raise ValueError("smoke results are for CI only and are never published: use PROFILE=local or paper")
    data = Path(data).resolve() if data else None
    series = Run(profile, data=data) if root is None else Run(profile, root=root, data=data)
    before = FileSnapshot(series.results_dir)
    executed = series.results_dir / "executed"
    minutes = previous_minutes(series)
    try:
        failed = execute_all(sources, executed, profile, minutes, data)
    except KeyboardInterrupt:
        before.restore()
        print(f"Interrupted: {project_relative(series.results_dir)}, the notebooks and README are left as they were.")
        return 130
    if failed:
        before.restore()
        print(f"{len(failed)} notebook(s) FAILED ({', '.join(failed)}): {project_relative(series.results_dir)}, the "
              f"notebooks and README are left as they were; executed copies are in {project_relative(executed)}.")
        return 1
    with deferred_interrupts():
        summary = write_summary(series, minutes=minutes)
        if publish:
            for source in sources:
                write_atomically(source, nbformat.writes(published(nbformat.read(executed / source.name, 4))))
            update_readme(series)
    print(f"Notebooks: {sum(minutes.values()):.1f} min in all. Summary: {project_relative(summary)}"
          + ("; notebooks and README published." if publish else "."))
    return 0


def execute_all(sources: list[Path], executed: Path, profile: Profile, minutes: dict,
                data: Path | None = None) -> list[str]:
    """Run each notebook in turn, recording its minutes; the names of those that failed."""
    failed = []
    for number, source in enumerate(sources, start=1):
        print(f"[{number}/{len(sources)}] {source.name} (profile {profile.name})", flush=True)
        try:
            seconds = execute_notebook(source, executed / source.name, profile, progress=sys.stdout.isatty(), data=data)
        except Exception as error:  # keep going: the other notebooks still tell something
            failed.append(source.stem)
            message = str(error).strip().splitlines() or [""]
            print(f"    FAILED: {type(error).__name__}: {message[-1][:300]}", flush=True)
            continue
        minutes[source.stem] = round(seconds / 60, 1)
        print(f"    done in {seconds / 60:.1f} min", flush=True)
    return failed


def published(notebook):
    """The executed notebook as it is committed: no injected parameters cell, no papermill metadata, and no
    progress bar: not the empty HTML a finished Trainer bar leaves, nor tqdm's widgets (their views and the
    ``widgets`` state papermill saves) or its text bars on stderr."""
    notebook.cells = [cell for cell in notebook.cells if INJECTED not in cell.metadata.get("tags", [])]
    notebook.metadata.pop("widgets", None)
    for item in (notebook, *notebook.cells):
        item.metadata.pop("papermill", None)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [output for output in cell.outputs if not is_progress_output(output)]
    return notebook


TQDM_BAR = re.compile(r"\d+%\|[^|]*\| *[\d.]+[kMG]?/[\d.?]+[kMG]? \[")  # "Map:  40%|████  | 4/10 [00:01<00:02]"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"  # tqdm's bar in a notebook (tqdm.auto)


def is_progress_output(output) -> bool:
    """A progress bar's output: empty HTML (a finished Trainer bar), a widget view (tqdm in a notebook) or stderr
    text made only of tqdm bar lines (tqdm without widgets)."""
    if output.get("output_type") == "stream":
        lines = [line for line in re.split(r"[\r\n]", "".join(output.get("text", ""))) if line.strip()]
        return output.get("name") == "stderr" and bool(lines) and all(TQDM_BAR.search(line) for line in lines)
    return is_empty_html(output) or WIDGET_VIEW in output.get("data", {})


def is_empty_html(output) -> bool:
    html = output.get("data", {}).get("text/html")
    return output.get("output_type") == "display_data" and html is not None and not "".join(html).strip()


class FileSnapshot:
    """The files directly inside a folder, in memory, to put back after a failed run."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} if folder.is_dir() else {}

    def restore(self) -> None:
        with deferred_interrupts():
            for path in self.folder.iterdir() if self.folder.is_dir() else []:
                if path.is_file() and path.name not in self.files:
                    path.unlink()
            for name, data in self.files.items():
                write_atomically(self.folder / name, data)


def _stop(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m textsim.series.runner", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["run", "summary", "readme"])
    parser.add_argument("notebooks", nargs="*", help="for run: the notebooks to execute, in order")
    parser.add_argument("--profile", help="smoke | local | paper (default: $TEXTSIM_PROFILE, else local)")
    parser.add_argument("--model", help="run: a Hub id or a model folder (default: $TEXTSIM_MODEL, else the "
                        "profile's model)")
    parser.add_argument("--data", type=Path, help="run: your own pairs (JSON lines, or CSV / TSV with the columns "
                        "sentence1, sentence2, label) instead of the tutorial's train_pair_1w.json")
    parser.add_argument("--publish", action="store_true", help="run: copy executed notebooks over the sources")
    args = parser.parse_intermixed_args(argv)
    try:
        profile = load_profile(args.profile, model=args.model)
        series = Run(profile)
        if args.command == "run":
            if not args.notebooks:
                parser.error("run needs the notebooks to execute")
            signal.signal(signal.SIGTERM, _stop)
            for model in {profile.cross_model, profile.bi_model}:
                resolve_model(model)  # a model that cannot load fails here, before any notebook starts
            if args.data is not None and not args.data.is_file():
                raise FileNotFoundError(f"No such data file: {args.data}")
            if args.data is not None and args.publish:
                raise ValueError("--publish shows the tutorial's own data: run your own pairs without it")
            return run(args.notebooks, profile, publish=args.publish, data=args.data)
        if args.command == "readme":
            update_readme(series)
            return 0
        print(write_summary(series).read_text(encoding="utf-8"))
        return 0
    except (ResultsError, ModelNotFoundError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
