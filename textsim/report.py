"""``make run`` / ``make publish``: execute the notebooks headless, then collect their results into a summary.

    python -m textsim.report run [--publish] notebooks/*.ipynb
    python -m textsim.report summary
    python -m textsim.report readme      # copy results/<profile>/summary.md into README.md

Notebook 04 uses ``execute_notebook`` to train the models it needs when notebooks 01 and 03 have not run.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .config import PROJECT_ROOT, Profile, load_profile

# Reported by the seed tutorial (hfl/chinese-macbert-base, 3 epochs, GPU): quoted, not re-run here.
SEED_REPORTED = [
    {"recipe": "cross-encoder (classification)", "accuracy": 0.914, "f1": 0.888},
    {"recipe": "cross-encoder (regression)", "accuracy": 0.9135, "f1": 0.888},
    {"recipe": "bi-encoder (pooler + CosineEmbeddingLoss, threshold 0.8)", "accuracy": 0.7625, "f1": 0.70},
]
NOTEBOOKS = ["01_cross_encoder_classification", "02_cross_encoder_regression", "03_bi_encoder",
             "04_retrieve_and_rerank"]


def execute_notebook(source: Path, target: Path, profile: Profile, timeout: int = 3600) -> float:
    """Run ``source`` top to bottom under ``profile`` (inside the notebooks folder); save it with outputs."""
    notebook = nbformat.read(source, as_version=4)
    os.environ["TEXTSIM_PROFILE"] = profile.name
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(source).resolve().parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
    return time.perf_counter() - start


def run(notebooks: list[str], profile: Profile, publish: bool = False) -> int:
    """Execute each notebook with a progress line; copies go to ``results/<profile>/executed/``."""
    executed_dir = profile.results_dir / "executed"
    failures = 0
    minutes = previous_minutes(profile)
    for number, source in enumerate(map(Path, notebooks), start=1):
        print(f"[{number}/{len(notebooks)}] {source.name} (profile {profile.name}) ...", flush=True)
        target = executed_dir / source.name
        try:
            seconds = execute_notebook(source, target, profile)
        except Exception as error:  # keep going: the summary shows what did finish
            failures += 1
            print(f"    FAILED: {type(error).__name__}: {str(error).strip().splitlines()[-1][:300]}", flush=True)
            continue
        print(f"    done in {seconds / 60:.1f} min -> {target.relative_to(PROJECT_ROOT)}", flush=True)
        minutes[source.stem] = round(seconds / 60, 1)
        if publish:
            shutil.copyfile(target, source)
    summary = write_summary(profile, minutes=minutes)
    print(f"Notebooks: {sum(minutes.values()):.1f} min in all, {failures} failed. "
          f"Summary: {summary.relative_to(PROJECT_ROOT)}")
    return 1 if failures else 0


def previous_minutes(profile: Profile) -> dict[str, float]:
    """Minutes per notebook of the last summary, so that re-running one notebook keeps the others' times."""
    path = profile.results_dir / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")).get("minutes", {}) if path.is_file() else {}


def collect(profile: Profile) -> dict:
    """Every notebook's results file under ``profile``, in series order (missing ones left out)."""
    found = {}
    for name in NOTEBOOKS:
        path = profile.results_dir / f"{name}.json"
        if path.is_file():
            found[name] = json.loads(path.read_text(encoding="utf-8"))
    return found


def write_summary(profile: Profile, **extra) -> Path:
    results = collect(profile)
    summary = {"profile": profile.name, **extra, "notebooks": results, "seed_reported": SEED_REPORTED}
    profile.results_dir.mkdir(parents=True, exist_ok=True)
    (profile.results_dir / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    path = profile.results_dir / "summary.md"
    path.write_text(summary_markdown(summary), encoding="utf-8")
    return path


def summary_markdown(summary: dict) -> str:
    """The results tables of the README, made from ``summary.json`` alone."""
    lines = ["| notebook | recipe | threshold | chosen on | test accuracy | F1 | precision | recall "
             "| train s | eval pairs/s | model | device |", "|" + " --- |" * 12]
    retrieval = []
    for name, result in summary["notebooks"].items():
        for row in result.get("rows", []):
            threshold = "—" if row["threshold"] is None else f"{row['threshold']:.3f}"
            lines.append(
                f"| {name[:2]} | {row['recipe']} | {threshold} | {row['threshold_source']} | {row['accuracy']:.4f} "
                f"| {row['f1']:.4f} | {row['precision']:.4f} | {row['recall']:.4f} "
                f"| {_blank(row.get('train_seconds'))} | {_blank(row.get('eval_pairs_per_second'))} "
                f"| {result['model']} | {result['device']} |")
        retrieval += [(name, row, result) for row in result.get("retrieval", [])]
    for row in summary["seed_reported"]:
        lines.append(f"| seed | {row['recipe']} | | | {row['accuracy']} | {row['f1']} | | | | "
                     f"| hfl/chinese-macbert-base | GPU (reported by the seed, not re-run) |")
    text = f"Profile `{summary['profile']}`"
    if summary.get("minutes"):
        each = ", ".join(f"{name[:2]} {value:g}" for name, value in summary["minutes"].items())
        text += f"; minutes per notebook: {each} ({sum(summary['minutes'].values()):.1f} in all)"
    text += ".\n\n" + "\n".join(lines) + "\n"
    if retrieval:
        text += "\n" + retrieval_markdown(retrieval)
    return text


def retrieval_markdown(rows) -> str:
    lines = ["| method | corpus | queries | Recall@1 | Recall@5 | Recall@10 | MRR@10 | ms/query |",
             "|" + " --- |" * 8]
    for _, row, _ in rows:
        lines.append(f"| {row['method']} | {row['corpus']} | {row['queries']} | {row['recall@1']:.3f} "
                     f"| {row['recall@5']:.3f} | {row['recall@10']:.3f} | {row['mrr@10']:.3f} "
                     f"| {row['ms_per_query']:.1f} |")
    return "\n".join(lines) + "\n"


README = PROJECT_ROOT / "README.md"
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def readme_table(text: str) -> str:
    """The results block of a README text (between the two markers)."""
    if README_START not in text or README_END not in text:
        raise ValueError(f"README has no {README_START} ... {README_END} block")
    return text.split(README_START, 1)[1].split(README_END, 1)[0].strip("\n")


def update_readme(profile: Profile, readme: Path = README) -> None:
    """Replace the README's results block with ``summary.md`` made from the committed ``summary.json``."""
    summary = json.loads((profile.results_dir / "summary.json").read_text(encoding="utf-8"))
    text = readme.read_text(encoding="utf-8")
    old = readme_table(text)
    readme.write_text(text.replace(old, summary_markdown(summary).strip("\n"), 1), encoding="utf-8")


def _blank(value) -> str:
    return "" if value is None else f"{value:g}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m textsim.report", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="execute notebooks, then write the summary")
    run_parser.add_argument("notebooks", nargs="+")
    run_parser.add_argument("--publish", action="store_true", help="copy executed notebooks over the sources")
    commands.add_parser("summary", help="only (re)write results/<profile>/summary.{json,md}")
    commands.add_parser("readme", help="copy the profile's summary table into README.md")
    args = parser.parse_args(argv)
    profile = load_profile()
    if args.command == "run":
        return run(args.notebooks, profile, publish=args.publish)
    if args.command == "readme":
        update_readme(profile)
        return 0
    print(write_summary(profile).read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
