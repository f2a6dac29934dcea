"""textsim.series.summary: the summary tables, the README's results block, and the committed local results."""
import json

import pytest

from textsim.series import summary
from textsim.series.profiles import PROFILES
from textsim.series.results import ResultsError, write_json
from textsim.series.run import Run


def fake_summary():
    row = {"recipe": "cross-encoder (classification)", "accuracy": 0.9, "f1": 0.85, "precision": 0.8,
           "recall": 0.9, "threshold": 0.5, "threshold_source": "fixed", "train_seconds": 12.5,
           "eval_pairs_per_second": 40.0, "pairs": 100, "accuracy_ci95": [0.8, 0.95]}
    retrieval = {"method": "bi-encoder", "corpus": 100, "queries": 5, "recall@1": 0.2, "recall@5": 0.6,
                 "recall@10": 0.8, "mrr@10": 0.4, "ms_per_query": 3.25, "recall@1_ci95": [0.0362, 0.6245]}
    return {"profile": "smoke", "minutes": {"01_x": 5.0, "04_y": 2.5},
            "original_reported": summary.ORIGINAL_REPORTED,
            "notebooks": {"01_x": {"model": "m3e-small", "device": "cpu (2 threads)", "rows": [row]},
                          "04_y": {"model": "m3e-small", "device": "cpu (2 threads)", "retrieval": [retrieval]}}}


def test_summary_markdown_has_a_row_per_recipe_and_the_original_numbers():
    text = summary.summary_markdown(fake_summary())
    assert "| 01 | cross-encoder (classification) | 0.500 | fixed | 0.9000 | [0.8000, 0.9500] | 0.8500 |" in text
    assert "minutes per notebook: 01 5, 04 2.5 (7.5 in all)" in text
    assert text.count("| original |") == len(summary.ORIGINAL_REPORTED) == 3
    assert "| original | cross-encoder (classification) | | | 0.914 | | 0.888 |" in text
    assert "seed" not in text
    assert "| 04 | bi-encoder | 100 | 5 | 0.200 | [0.036, 0.625] | 0.600 | 0.800 | 0.400 | 3.2 |" in text


def test_a_retrieval_row_a_later_notebook_repeats_is_shown_once():
    fake = fake_summary()
    first = fake["notebooks"]["04_y"]["retrieval"][0]
    again = first | {"ms_per_query": 9.0}  # the same retriever measured again: only its latency differs
    other = first | {"method": "reranked", "recall@1": 0.4}
    fake["notebooks"]["05_z"] = {"model": "m3e-small", "device": "cpu", "retrieval": [again, other]}
    text = summary.summary_markdown(fake)
    assert text.count("| bi-encoder | 100 |") == 1 and "| 05 | reranked | 100 | 5 | 0.400 |" in text


def test_the_headline_is_the_last_recipe_chosen_on_validation_and_the_chosen_pipeline():
    fake = fake_summary()
    first = fake["notebooks"]["01_x"]["rows"][0]
    chosen = {**first, "recipe": "improved", "threshold_source": "validation (max accuracy)", "accuracy": 0.95}
    fake["notebooks"]["01_x"]["rows"] = [first, chosen, {**first, "recipe": "fixed again"}]
    alone = fake["notebooks"]["04_y"]["retrieval"][0] | {"method": "bi-encoder, improved"}
    fused = alone | {"method": "A + B fused with the cosine (w 0.5, top 50)", "recall@1": 0.3}
    fake["notebooks"]["04_y"] |= {"retrieval": [alone, fused], "best_pipeline": "A + B"}
    lines = summary.headline_markdown(fake).splitlines()
    assert lines[2] == ("| 01_x | improved, threshold validation (max accuracy): accuracy 0.9500 [0.8000, 0.9500] "
                        "| 5 |")
    assert lines[3] == ("| 04_y | A + B fused with the cosine (w 0.5, top 50): Recall@1 0.300 [0.036, 0.625] "
                        "(bi-encoder alone 0.200) | 2.5 |")
    assert summary.summary_markdown(fake).count("| 01_x |") == 1


def test_a_notebook_without_a_validation_choice_shows_its_first_recipe():
    assert summary.headline(fake_summary()["notebooks"]["01_x"]).startswith("cross-encoder (classification), "
                                                                            "threshold fixed: accuracy 0.9000")


def test_write_summary_collects_results_files(tmp_path):
    run = Run(PROFILES["smoke"], root=tmp_path)
    run.results_dir.mkdir(parents=True)
    for name in ("03_bi_encoder", "01_cross_encoder_classification"):
        run.results_path(name).write_text(json.dumps({**fake_summary()["notebooks"]["01_x"], "profile": "smoke"}),
                                          encoding="utf-8")
    path = summary.write_summary(run)
    assert path == tmp_path / "results" / "smoke" / "summary.md"
    written = json.loads((run.results_dir / "summary.json").read_text(encoding="utf-8"))
    assert list(written["notebooks"]) == ["01_cross_encoder_classification", "03_bi_encoder"]  # series order
    assert written["original_reported"] == summary.ORIGINAL_REPORTED and "seed_reported" not in written
    assert path.read_text(encoding="utf-8") == summary.summary_markdown(written)


def test_write_summary_writes_through_the_atomic_json_writer(tmp_path, monkeypatch):
    run = Run(PROFILES["smoke"], root=tmp_path)
    run.results_dir.mkdir(parents=True)
    run.results_path("01_cross_encoder_classification").write_text(
        json.dumps({"profile": "smoke", "model": "m3e-small", "device": "cpu", "名": "相似"}), encoding="utf-8")
    written = []
    monkeypatch.setattr(summary, "write_json", lambda path, data: written.append(path) or write_json(path, data))
    summary.write_summary(run, minutes={"01_cross_encoder_classification": 1.5})
    assert written == [run.results_dir / "summary.json"]
    text = written[0].read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n" and '"名": "相似"' in text
    assert sorted(p.name for p in run.results_dir.iterdir()) == [
        "01_cross_encoder_classification.json", "summary.json", "summary.md"]  # no temporary file left


def test_write_summary_without_results_names_the_folder_relative_to_the_root(tmp_path):
    with pytest.raises(ResultsError, match="no results under results/smoke: run `make run PROFILE=smoke`"):
        summary.write_summary(Run(PROFILES["smoke"], root=tmp_path))


def updated_readme(tmp_path, text: str) -> str:
    """``text`` as the README of a project in tmp_path, after ``update_readme`` with the fake summary."""
    run = Run(PROFILES["smoke"], root=tmp_path)
    run.results_dir.mkdir(parents=True)
    (run.results_dir / "summary.json").write_text(json.dumps(fake_summary()), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(text, encoding="utf-8")
    summary.update_readme(run)  # the README of the run's root
    return readme.read_text(encoding="utf-8")


def test_update_readme_writes_the_readme_it_is_given(tmp_path):
    run = Run(PROFILES["smoke"], root=tmp_path)
    run.results_dir.mkdir(parents=True)
    (run.results_dir / "summary.json").write_text(json.dumps(fake_summary()), encoding="utf-8")
    other = tmp_path / "docs" / "OTHER.md"
    other.parent.mkdir()
    other.write_text(f"{summary.README_START}\n{summary.README_END}\n", encoding="utf-8")
    summary.update_readme(run, other)
    assert summary.readme_table(other.read_text(encoding="utf-8")) == \
        summary.summary_markdown(fake_summary()).strip("\n")
    assert not (tmp_path / "README.md").exists()


def test_update_readme_needs_the_original_numbers(tmp_path):
    run = Run(PROFILES["smoke"], root=tmp_path)
    run.results_dir.mkdir(parents=True)
    stale = {key: value for key, value in fake_summary().items() if key != "original_reported"}
    (run.results_dir / "summary.json").write_text(json.dumps({**stale, "seed_reported": []}), encoding="utf-8")
    (tmp_path / "README.md").write_text(f"{summary.README_START}\n{summary.README_END}\n", encoding="utf-8")
    with pytest.raises(ResultsError, match="summary.json: missing field.*original_reported"):
        summary.update_readme(run)


def test_update_readme_replaces_only_the_results_block(tmp_path):
    block = f"{summary.README_START}\nOLD-TABLE\n{summary.README_END}"
    text = updated_readme(tmp_path, f"intro\n{block}\noutro\n")
    assert text.startswith("intro\n") and text.endswith("outro\n") and "OLD-TABLE" not in text
    assert summary.readme_table(text) == summary.summary_markdown(fake_summary()).strip("\n")


def test_readme_without_markers_is_a_clear_error():
    with pytest.raises(ValueError, match="results:start"):
        summary.readme_table("no table here")


# --- The committed local results: what the README shows is what the code produced. ---


@pytest.fixture
def results(unit_results):
    return unit_results

def test_summary_alone_keeps_the_minutes_of_the_last_run(results):
    run, results = results
    assert summary.previous_minutes(run) == {"01_cross_encoder_classification": 1.0}
    summary.write_summary(run)
    assert json.loads((results / "summary.json").read_text())["minutes"] == {"01_cross_encoder_classification": 1.0}


def test_results_of_another_profile_are_refused(results):
    run, results = results
    path = results / "02_cross_encoder_regression.json"
    path.write_text(json.dumps({"profile": "smoke", "model": "m3e-small", "device": "cpu"}), encoding="utf-8")
    with pytest.raises(ResultsError, match="02_cross_encoder_regression.json.*smoke"):
        summary.write_summary(run)


@pytest.mark.parametrize("text", ["{not json", '{"profile": "smoke"'])
def test_a_corrupt_results_file_is_named(results, text):
    run, results = results
    (results / "01_cross_encoder_classification.json").write_text(text, encoding="utf-8")
    with pytest.raises(ResultsError, match="01_cross_encoder_classification.json"):
        summary.write_summary(run)


def test_a_results_file_without_its_fields_is_named(results):
    run, results = results
    (results / "01_cross_encoder_classification.json").write_text('{"profile": "unit"}', encoding="utf-8")
    with pytest.raises(ResultsError, match="01_cross_encoder_classification.json.*model"):
        summary.write_summary(run)


def test_update_readme_replaces_the_block_not_an_earlier_copy(tmp_path):
    text = updated_readme(tmp_path, f"quoted: OLD\n{summary.README_START}\nOLD\n{summary.README_END}\n")
    assert text.startswith("quoted: OLD\n") and "\nOLD\n" not in text


def test_update_readme_fills_an_empty_block_in_place(tmp_path):
    text = updated_readme(tmp_path, f"intro\n{summary.README_START}\n{summary.README_END}\n")
    assert text.startswith(f"intro\n{summary.README_START}\n")
    assert summary.readme_table(text) == summary.summary_markdown(fake_summary()).strip("\n")


