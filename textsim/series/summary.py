"""The results summary of a profile and the README's results block, made from the notebooks' results files.

``make run`` writes ``results/<profile>/summary.{json,md}`` with ``write_summary``; ``make publish`` copies the table
into the README between two markers with ``update_readme``. ``tests/repo/test_committed_results.py`` checks that
the committed README, summary.md and summary.json agree.
"""
from __future__ import annotations

from pathlib import Path

from .results import ResultsError, read_json, replace_block, write_atomically, write_json
from .run import NOTEBOOKS, Run

# Reported by the original tutorial (hfl/chinese-macbert-base, 3 epochs, GPU), quoted.
ORIGINAL_REPORTED = [
    {"recipe": "cross-encoder (classification)", "accuracy": 0.914, "f1": 0.888},
    {"recipe": "cross-encoder (regression)", "accuracy": 0.9135, "f1": 0.888},
    {"recipe": "bi-encoder (pooler + CosineEmbeddingLoss, threshold 0.8)", "accuracy": 0.7625, "f1": 0.70},
]


def previous_minutes(run: Run) -> dict[str, float]:
    """Minutes per notebook of the last summary, so that re-running one notebook keeps the others' times."""
    path = run.results_dir / "summary.json"
    return dict(read_json(path).get("minutes", {})) if path.is_file() else {}


def collect(run: Run) -> dict:
    """Every notebook's results file under the run's profile, in series order (missing ones left out)."""
    profile, found = run.profile, {}
    for name in NOTEBOOKS:
        path = run.results_path(name)
        if path.is_file():
            record = read_json(path, required=("profile", "model", "device"))
            if record["profile"] != profile.name:
                raise ResultsError(f"{path} was written under profile {record['profile']!r}, not "
                                   f"{profile.name!r}; run the notebook again under {profile.name!r}.")
            found[name] = record
    return found


def write_summary(run: Run, minutes: dict | None = None) -> Path:
    """``summary.json`` and ``summary.md`` from the results files; the last run's minutes unless given."""
    results = collect(run)
    if not results:
        raise ResultsError(f"no results under {run.relative(run.results_dir)}: "
                           f"run `make run PROFILE={run.profile.name}`.")
    minutes = previous_minutes(run) if minutes is None else minutes
    summary = {"profile": run.profile.name, "minutes": minutes, "notebooks": results,
               "original_reported": ORIGINAL_REPORTED}
    write_json(run.results_dir / "summary.json", summary)
    path = run.results_dir / "summary.md"
    write_atomically(path, summary_markdown(summary))
    return path


def summary_markdown(summary: dict) -> str:
    """The results tables of the README, made from ``summary.json`` alone."""
    lines = ["| notebook | recipe | threshold | chosen on | test accuracy | 95% interval | F1 | precision | recall "
             "| train s | eval pairs/s | model | device |", "|" + " --- |" * 13]
    retrieval = []
    for name, result in summary["notebooks"].items():
        for row in result.get("rows", []):
            threshold = "—" if row["threshold"] is None else f"{row['threshold']:.3f}"
            lines.append(
                f"| {name[:2]} | {row['recipe']} | {threshold} | {row['threshold_source']} | {row['accuracy']:.4f} "
                f"| {_interval(row.get('accuracy_ci95'))} | {row['f1']:.4f} | {row['precision']:.4f} "
                f"| {row['recall']:.4f} | {_blank(row.get('train_seconds'))} "
                f"| {_blank(row.get('eval_pairs_per_second'))} | {result['model']} | {result['device']} |")
        retrieval += [{**row, "notebook": name[:2]} for row in result.get("retrieval", [])
                      if not any(_same_row(row, seen) for seen in retrieval)]  # 05 repeats 04's retriever row
    for row in summary["original_reported"]:
        lines.append(f"| original | {row['recipe']} | | | {row['accuracy']} | | {row['f1']} | | | | "
                     f"| hfl/chinese-macbert-base | GPU (quoted from the original tutorial) |")
    text = f"Profile `{summary['profile']}`"
    if summary.get("minutes"):
        each = ", ".join(f"{name[:2]} {value:g}" for name, value in summary["minutes"].items())
        text += f"; minutes per notebook: {each} ({sum(summary['minutes'].values()):.1f} in all)"
    text += ". Intervals: 95% Wilson.\n\n" + headline_markdown(summary) + "\n" + "\n".join(lines) + "\n"
    if retrieval:
        text += "\n" + retrieval_markdown(retrieval)
    return text


def headline(result: dict) -> str:
    """A notebook's main test result: its last recipe chosen on validation (else its first), or for retrieval the
    pipeline chosen on validation queries against the bi-encoder alone."""
    if "best_pipeline" in result:
        rows = {row["method"]: row for row in result["retrieval"]}
        best = next(row for name, row in rows.items() if name.startswith(f"{result['best_pipeline']} fused"))
        alone = rows["bi-encoder, improved"]
        return (f"{best['method']}: Recall@1 {best['recall@1']:.3f} {_interval(best.get('recall@1_ci95'), 3)} "
                f"(bi-encoder alone {alone['recall@1']:.3f})")
    rows = result["rows"]
    row = ([r for r in rows if r["threshold_source"].startswith("validation")] or rows[:1])[-1]
    return (f"{row['recipe']}, threshold {row['threshold_source']}: accuracy {row['accuracy']:.4f} "
            f"{_interval(row.get('accuracy_ci95'))}")


def headline_markdown(summary: dict) -> str:
    """One line per notebook: its main test result and its minutes."""
    lines = ["| notebook | main test result | minutes |", "| --- | --- | --- |"]
    for name, result in summary["notebooks"].items():
        if result.get("rows") or "best_pipeline" in result:
            lines.append(f"| {name} | {headline(result)} | {_blank(summary.get('minutes', {}).get(name))} |")
    return "\n".join(lines) + "\n"


def _same_row(row: dict, other: dict) -> bool:
    return all(row.get(key) == other.get(key) for key in row if key != "ms_per_query")


def retrieval_markdown(rows: list[dict]) -> str:
    lines = ["| notebook | method | corpus | queries | Recall@1 | 95% interval | Recall@5 | Recall@10 | MRR@10 "
             "| ms/query |", "|" + " --- |" * 10]
    for row in rows:
        lines.append(f"| {row.get('notebook', '')} | {row['method']} | {row['corpus']} | {row['queries']} "
                     f"| {row['recall@1']:.3f} "
                     f"| {_interval(row.get('recall@1_ci95'), 3)} | {row['recall@5']:.3f} | {row['recall@10']:.3f} "
                     f"| {row['mrr@10']:.3f} | {row['ms_per_query']:.1f} |")
    return "\n".join(lines) + "\n"


def _interval(bounds, digits: int = 4) -> str:
    return "" if not bounds else f"[{bounds[0]:.{digits}f}, {bounds[1]:.{digits}f}]"


README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def readme_table(text: str) -> str:
    """The results block of a README text (between the two markers)."""
    return split_readme(text)[1].strip("\n")


def split_readme(text: str) -> tuple[str, str, str]:
    """The text up to the start marker, the block, and the text from the end marker on."""
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"README has no {README_START} ... {README_END} block")
    start += len(README_START)
    return text[:start], text[start:end], text[end:]


def update_readme(run: Run, readme: Path | None = None) -> None:
    """Replace the README's results block with ``summary.md`` made from the committed ``summary.json``."""
    summary = read_json(run.results_dir / "summary.json", required=("profile", "notebooks", "original_reported"))
    replace_block(readme or run.root / "README.md", README_START, README_END, summary_markdown(summary))


def _blank(value) -> str:
    return "" if value is None else f"{value:g}"
