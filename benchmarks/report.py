"""The report: ``bench.json`` (every repetition) and ``bench.md`` (one table per section)."""
from __future__ import annotations

from pathlib import Path

from textsim.results import write_atomically, write_json

from . import timing


def fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def header(report: dict) -> list[str]:
    m = report["machine"]
    lines = [f"# Speed benchmark: the seed's code path against ours ({report['size']} run)", "",
             f"Model `{report['model']}`, finished {report['finished_at']}, took {report['seconds']:.0f} s. "
             "Each figure: median of the repetitions after a warm-up, spread = min–max. "
             "Speed-up = how many times faster ours is (ours/seed throughput, or seed/ours time).", "",
             f"Machine: {m['cpu']} (of the speed flags {', '.join(timing.SPEED_FLAGS)} it has: "
             f"{', '.join(m.get('cpu_flags', [])) or 'none'}), {m['cores']} cores, {m['torch_threads']} torch threads, "
             f"GPU: {m['gpu'] or 'none'}; device `{m['device']}`; load average at start "
             f"{', '.join(f'{x:.1f}' for x in m['load_average_at_start'] or [])}.", "",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()), ""]
    if report["size"] == "tiny":
        lines += ["**Tiny run: a smoke test of the script; its figures say nothing about speed.**", ""]
    return lines


def table(rows: list[dict]) -> list[str]:
    """A section's table ("seed" = the original tutorial's figures), then each row's note."""
    lines = ["| measure | unit | seed median (min–max) | ours median (min–max) | speed-up | target | met |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        s, o = r["seed"], r["ours"]
        lines.append(f"| {r['name']} | {r['unit']} | {fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])}) "
                     f"| {fmt(o['median'])} ({fmt(o['min'])}–{fmt(o['max'])}) | {r['speedup']:,.1f}× "
                     f"| ≥ {r['target']:g}× | {'yes' if r['met'] else 'NO'} |")
    lines.append("")
    return lines + [f"- {r['name']}: {r['note']}" for r in rows if r["note"]]


def markdown(report: dict) -> str:
    lines = header(report)
    for title, section in report["sections"].items():
        lines += [f"## {title}", ""]
        if section["rows"]:
            lines += table(section["rows"])
        lines += [f"- {note}" for note in section.get("notes", [])] + [""]
    return "\n".join(lines)


def write(report: dict, out: Path) -> None:
    write_json(out / "bench.json", report)
    write_atomically(out / "bench.md", markdown(report))
