"""The committed results and the pages that quote them: the README's results block and claims, docs/models.md's
comparison of base models, docs/speed.md's benchmark table, and the recipes each notebook trains."""
import json
import re

import pytest

from benchmarks import speed_page
from experiments import base_models
from experiments import levers as lever_experiment
from textsim.series import summary
from textsim.series.profiles import PROFILES, PROJECT_ROOT, RECIPES
from textsim.series.run import NOTEBOOKS, Run

LOCAL = Run(PROFILES["local"])
LOCAL_SUMMARY = LOCAL.results_dir / "summary.json"
COMMITTED = LOCAL.results_dir / "base_models.json"


@pytest.fixture(scope="module")
def local_summary():
    assert LOCAL_SUMMARY.is_file(), "results/local/summary.json is missing: run `make publish PROFILE=local`"
    return json.loads(LOCAL_SUMMARY.read_text(encoding="utf-8"))


def test_readme_table_equals_the_committed_local_summary(local_summary):
    readme = (LOCAL.root / "README.md").read_text(encoding="utf-8")
    assert summary.readme_table(readme) == summary.summary_markdown(local_summary).strip("\n")
    assert (LOCAL_SUMMARY.parent / "summary.md").read_text(encoding="utf-8") == summary.summary_markdown(local_summary)


def test_committed_local_results_cover_every_notebook(local_summary):
    assert list(local_summary["notebooks"]) == list(NOTEBOOKS)
    for result in local_summary["notebooks"].values():
        assert result["profile"] == "local" and result["model"] and result["device"]


def test_the_claims_of_the_readme_hold_in_the_committed_local_results(local_summary):
    """Issue targets, checked on the numbers the README shows: the improved bi-encoder beats the original recipe and
    comes within 2 points of the cross-encoder; retrieve-then-rerank keeps brute force's Recall@10 within 2 points
    while being at least 100x faster per query."""
    notebooks = local_summary["notebooks"]
    bi = {(r["recipe"], r["threshold_source"]): r for r in notebooks["03_bi_encoder"]["rows"]}
    original = bi[("bi-encoder original recipe (pooler + CosineEmbeddingLoss)", "fixed 0.8 (original)")]
    improved = bi[("bi-encoder improved (mean + contrastive)", "validation (max accuracy)")]
    cross = notebooks["01_cross_encoder_classification"]["rows"][0]
    assert improved["accuracy"] > original["accuracy"] and improved["f1"] > original["f1"]
    assert improved["accuracy"] >= cross["accuracy"] - 0.02
    retrieval = notebooks["05_rerankers_for_ranking"]
    methods = {row["method"]: row for row in retrieval["retrieval"]}
    rerank = methods["retrieve + rerank (sampled queries)"]
    brute = methods["cross-encoder brute force (sampled queries)"]
    assert rerank["recall@10"] >= brute["recall@10"] - 0.02
    assert retrieval["rerank_speedup_vs_brute_force"] >= 100


def test_the_retrieval_claims_of_the_readme_hold_in_the_committed_local_results(local_summary):
    """Notebook 04's claims in the README: notebook 01's classifier lowers Recall@1 as a reranker (04 prints the
    paired interval), each cross-encoder fused with the cosine stays at or above retrieval alone, and the pipeline
    chosen on validation queries is the one with the best validation MRR@10."""
    retrieval = local_summary["notebooks"]["04_retrieve_and_rerank"]
    methods = {row["method"]: row for row in retrieval["retrieval"]}
    bi = methods["bi-encoder, improved"]
    classifier = methods[f"improved bi-encoder top {retrieval['rerank_k']} + cross-encoder rerank"]
    assert classifier["recall@1"] < bi["recall@1"]
    fused = {name: row for name, row in methods.items() if " fused with the cosine " in name}
    assert len(fused) == len(retrieval["pipelines"]) == 2
    assert all(row["recall@1"] >= bi["recall@1"] for row in fused.values())
    assert all(row["queries"] == bi["queries"] and row["corpus"] == bi["corpus"] for row in fused.values())
    assert len([name for name in fused if name.startswith(f"{retrieval['best_pipeline']} fused")]) == 1
    assert retrieval["fusion_chosen_on_validation"][retrieval["best_pipeline"]]["mrr@10"] == max(
        row["mrr@10"] for row in retrieval["fusion_chosen_on_validation"].values())


def test_the_reranker_claims_of_the_readme_hold_in_the_committed_local_results(local_summary):
    """Notebook 05's claims in the README: on the same queries as 04 (the same retriever row), the pipeline chosen on
    validation queries is a fused one that beats retrieval alone by at least 3 points of Recall@1 and on MRR@10, and
    brute-force scoring by the rerankers stays below retrieval alone on the sampled queries."""
    notebooks = local_summary["notebooks"]
    retrieval = notebooks["05_rerankers_for_ranking"]
    methods = {row["method"]: row for row in retrieval["retrieval"]}
    bi = methods["bi-encoder, improved"]
    earlier = {row["method"]: row for row in notebooks["04_retrieve_and_rerank"]["retrieval"]}["bi-encoder, improved"]
    assert {k: v for k, v in bi.items() if k != "ms_per_query"} == {
        k: v for k, v in earlier.items() if k != "ms_per_query"}
    fused = {name: row for name, row in methods.items() if " fused with the cosine " in name}
    assert len(fused) == len(retrieval["pipelines"]) == 3
    best = [row for name, row in fused.items() if name.startswith(f"{retrieval['best_pipeline']} fused")]
    assert len(best) == 1
    assert best[0]["recall@1"] >= bi["recall@1"] + 0.03 and best[0]["mrr@10"] > bi["mrr@10"]
    assert retrieval["fusion_chosen_on_validation"][retrieval["best_pipeline"]]["mrr@10"] == max(
        row["mrr@10"] for row in retrieval["fusion_chosen_on_validation"].values())
    sampled_bi = methods["bi-encoder, improved (sampled queries)"]
    assert all(row["recall@1"] < sampled_bi["recall@1"] for name, row in methods.items() if "brute force" in name)


def test_the_models_page_table_is_the_committed_comparison():
    record = json.loads(COMMITTED.read_text(encoding="utf-8"))
    readme = (PROJECT_ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    start = readme.index(base_models.README_START) + len(base_models.README_START)
    assert readme[start:readme.index(base_models.README_END)].strip() == base_models.markdown_table(record).strip()


def test_the_committed_comparison_covers_both_models_for_both_jobs():
    rows = json.loads(COMMITTED.read_text(encoding="utf-8"))["rows"]
    assert {(r["job"], r["model"]) for r in rows} == {(j, m) for j in base_models.JOBS for m in base_models.MODELS}
    assert all(len({r["seed"] for r in rows if (r["job"], r["model"]) == (j, m)}) >= 2
               for j in base_models.JOBS for m in base_models.MODELS)  # a spread, not one run


def test_the_committed_levers_cover_every_lever_and_the_combination_over_three_seeds():
    """results/local/levers.json (docs/levers.md): each lever over the three seeds, its summary made from its rows,
    and the combination the one its rows choose on validation, trained over the three seeds unless it is one lever."""
    record = json.loads((LOCAL.results_dir / lever_experiment.FILE).read_text(encoding="utf-8"))
    rows = [r for r in record["rows"] if r["lever"] != "combination"]
    chosen = lever_experiment.combination_settings(rows)
    assert record["combination_settings"] == chosen
    assert record["combination_row"] == (lever_experiment.combination_lever(chosen) or "combination")
    levers = [*lever_experiment.LEVERS, *([] if lever_experiment.combination_lever(chosen) else ["combination"])]
    assert sorted(record["levers"]) == sorted(levers)
    for lever in levers:
        assert sorted(r["seed"] for r in record["rows"] if r["lever"] == lever) == sorted(lever_experiment.SEEDS)
        validation = [lever_experiment.as_predicted(r, "validation") for r in record["rows"] if r["lever"] == lever]
        assert record["levers"][lever]["validation_accuracy"] == lever_experiment.mean_interval(validation)
    assert record["gains"]["validation"] == lever_experiment.lever_gains(record["rows"])
    assert all(r["settings"] == chosen for r in record["rows"] if r["lever"] == "combination")


def test_notebook_06_trains_the_combination_the_levers_record_chose(local_summary):
    """Notebook 06 trains, once, the settings results/local/levers.json's validation rows chose, and reports its
    paired test gain over notebook 01's model with an interval around it."""
    record = json.loads((LOCAL.results_dir / lever_experiment.FILE).read_text(encoding="utf-8"))
    result = local_summary["notebooks"]["06_accuracy_levers"]
    assert result["combination"] == record["combination_settings"]
    assert result["both_orders_at_prediction"] == bool(record["combination_settings"].get("both_orders"))
    mean, low, high = result["paired_gain_over_01"]
    assert low <= mean <= high
    first = local_summary["notebooks"]["01_cross_encoder_classification"]["rows"][0]
    assert abs(result["rows"][0]["accuracy"] - first["accuracy"]) < 0.05  # it trained: no collapse to one class


def test_the_levers_page_table_is_the_committed_record():
    record = json.loads((LOCAL.results_dir / lever_experiment.FILE).read_text(encoding="utf-8"))
    page = (PROJECT_ROOT / "docs" / "levers.md").read_text(encoding="utf-8")
    start = page.index(lever_experiment.PAGE_START) + len(lever_experiment.PAGE_START)
    assert page[start:page.index(lever_experiment.PAGE_END)].strip() == lever_experiment.markdown_table(record).strip()


def test_the_speed_page_equals_the_committed_benchmark():
    """docs/speed.md: its generated table is the committed bench.json's, and its prose quotes that report."""
    bench = json.loads((PROJECT_ROOT / "results" / "bench.json").read_text(encoding="utf-8"))
    speed = speed_page.SPEED_PAGE.read_text(encoding="utf-8")
    assert bench["size"] == "full"
    block = speed[speed.index(speed_page.SPEED_START) + len(speed_page.SPEED_START):speed.index(speed_page.SPEED_END)]
    assert block.strip("\n") == speed_page.speed_table(bench)
    assert f"{bench['seconds'] / 60:.1f} 分钟" in block
    rows = [r for section in bench["sections"].values() for r in section["rows"]]
    table = [line for line in block.splitlines() if line.startswith("| ") and "×" in line]
    assert len(table) == len(rows) and all(r["name"] in speed_page.WAYS for r in rows)
    for line, r in zip(table, rows):
        assert line.endswith(f"| {speed_page.ratio(r['speedup'])} |"), line
    why = " ".join(bench["sections"]["2. Pair scoring throughput"]["notes"])
    for figure in re.findall(r"(\d+ GFLOP/s|\d+% )", why):
        assert figure.strip() in speed
    paper = bench["sections"]["5. What the paper profile (MacBERT-base) would cost here"]["estimate"][0]
    assert f"每秒 {paper['rate']['median']:.1f} 对" in speed and f"约 {paper['hours']:.1f} 小时" in speed


def notebook_code(notebook: str) -> str:
    cells = json.loads((PROJECT_ROOT / "notebooks" / f"{notebook}.ipynb").read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")


def test_each_recipe_is_trained_by_its_notebook():
    """Each recipe names a notebook of the series, which takes it from RECIPES by name and trains it."""
    for recipe in RECIPES.values():
        assert recipe.notebook in NOTEBOOKS
        assert f'RECIPES["{recipe.name}"]' in notebook_code(recipe.notebook), recipe
    assert sorted(RECIPES) == ["bi-improved", "bi-original", "classification", "regression"]
