"""The speed report: ``bench.json`` (every repetition), ``bench.md`` (one table per section), docs/speed.md's table."""
from __future__ import annotations

from pathlib import Path

from textsim.series.profiles import PROJECT_ROOT
from textsim.series.results import replace_block, write_atomically, write_json

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


SPEED_PAGE = PROJECT_ROOT / "docs" / "speed.md"
SPEED_START, SPEED_END = "<!-- bench:start -->", "<!-- bench:end -->"
WAYS = {  # a row of the report: what it measures, the seed's way and ours, as the speed page names them
    "training, cross-encoder": ("训练，交叉编码器", "每对补齐到 128，随机分批", "动态补齐，按长度分组"),
    "training, bi-encoder": ("训练，双塔", "每句补齐到 128", "两边各自补齐，按较长一边分组"),
    "scoring, cross-encoder": ("打分，交叉编码器", "每对调用一次 `pipeline`", "`score_pairs`，每批 64，`precision=\"auto\"`"),
    "scoring, cross-encoder, ours in fp32": ("打分，交叉编码器，我们用 fp32", "每对调用一次 `pipeline`", "`score_pairs`，每批 64，fp32"),
    "scoring, cross-encoder, seed's batched Trainer path": (
        "打分，交叉编码器，原教程的批量路径", "`Trainer.predict`，补齐到 128，每批 32", "`score_pairs`，`precision=\"auto\"`"),
    "scoring, bi-encoder": ("打分，双塔", "每对调用一次 `pipeline`", "`encode` 分批，再求余弦，`precision=\"auto\"`"),
    "scoring, bi-encoder, ours in fp32": ("打分，双塔，我们用 fp32", "每对调用一次 `pipeline`", "`encode` 分批，再求余弦，fp32"),
    "scoring, bi-encoder, seed's batched Trainer path": (
        "打分，双塔，原教程的批量路径", "`Trainer.predict`，补齐到 128，每批 32", "`encode` 分批，`precision=\"auto\"`"),
    "ranking, ms per query (top 10)": ("排序，每个查询取前 10", "交叉编码器给全部语料打分", "faiss 搜索预先算好的向量"),
    "scoring, fp32 vs bfloat16 autocast": ("打分，GPU 上 bf16 对 fp32", "fp32", "bf16 autocast"),
    "scoring, fp32 vs float16 autocast": ("打分，GPU 上 fp16 对 fp32", "fp32", "fp16 autocast"),
    "scoring, autocast + torch.compile": ("打分，GPU 上 autocast + `torch.compile`", "autocast", "autocast + `torch.compile`"),
    "precision, cross-encoder, bf16 vs fp32": ("精度，交叉编码器，bf16 对 fp32", "fp32", "bf16 autocast"),
    "precision, cross-encoder, int8 vs fp32": ("精度，交叉编码器，int8 对 fp32", "fp32", "int8 动态量化"),
    "precision, bi-encoder, bf16 vs fp32": ("精度，双塔，bf16 对 fp32", "fp32", "bf16 autocast"),
    "precision, bi-encoder, int8 vs fp32": ("精度，双塔，int8 对 fp32", "fp32", "int8 动态量化"),
}


def ratio(speedup: float) -> str:
    """A speed-up as the speed page writes it: one decimal below 100×, whole numbers with commas above."""
    return f"{speedup:,.0f}×" if speedup >= 100 else f"{speedup:.1f}×"


def speed_table(report: dict) -> str:
    """The generated part of docs/speed.md: the machine, the minutes, and one line per row of the report."""
    m = report["machine"]
    lines = [f"{m['cpu']}（速度相关的标志位：{', '.join(m.get('cpu_flags', [])) or '无'}），{m['cores']} 核，"
             f"GPU：{m['gpu'] or '无'}；全程 {report['seconds'] / 60:.1f} 分钟（{report['finished_at'][:10]}）。", "",
             "| 测什么 | 原教程的做法 | 我们的做法 | 快多少 |", "| --- | --- | --- | --- |"]
    for section in report["sections"].values():
        for r in section["rows"]:
            what, seed, ours = WAYS.get(r["name"], (r["name"], "", ""))
            lines.append(f"| {what} | {seed} | {ours} | {ratio(r['speedup'])} |")
    return "\n".join(lines)


def update_speed_page(report: dict, page: Path = SPEED_PAGE) -> None:
    replace_block(page, SPEED_START, SPEED_END, speed_table(report))
