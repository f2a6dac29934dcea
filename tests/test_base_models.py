"""experiments/base_models.py: the comparison of base models behind docs/models.md."""

import pytest
from scipy import stats

from experiments import base_models



def row(model, job, seed, validation, test, rerank=None, parameters=4_081_146):
    found = {"model": model, "job": job, "seed": seed, "parameters": parameters, "validation_accuracy": validation,
             "test_accuracy": test}
    return found | ({"rerank_recall@1": rerank, "rerank_mrr@10": rerank} if rerank is not None else {})


def test_mean_interval_is_students_t_over_runs():
    values = [0.80, 0.84, 0.86]
    mean, sd = sum(values) / 3, stats.tstd(values)
    half = stats.t.ppf(0.975, 2) * sd / 3 ** 0.5
    assert base_models.mean_interval(values) == f"{mean:.3f} [{mean - half:.3f}, {mean + half:.3f}]"
    assert half > 2.4 * sd / 3 ** 0.5 * 1.7  # t with 2 degrees of freedom, far wider than the normal's 1.96
    assert base_models.mean_interval([0.5]) == "0.500 (1 run)"
    assert base_models.mean_interval([None, None]) == "—"


def test_markdown_table_groups_runs_by_job_and_model():
    record = {"rows": [row("a", "classification", 2, 0.80, 0.81, 0.7), row("a", "classification", 1, 0.82, 0.83, 0.6),
                       row("b", "regression", 42, 0.9, 0.91, parameters=24_000_000)]}
    lines = base_models.markdown_table(record).splitlines()
    assert len(lines) == 4 and lines[0].startswith("| job | base model |")
    assert lines[2].startswith("| classification | a | 4.1M | 2 (1, 2) | 0.810 [")
    assert lines[3] == "| regression | b | 24.0M | 1 (42) | 0.900 (1 run) | 0.910 (1 run) | — | — |"


def test_update_readme_replaces_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{base_models.README_START}\nold\n{base_models.README_END}\nafter\n", encoding="utf-8")
    record = {"rows": [row("a", "regression", 1, 0.8, 0.8)]}
    base_models.update_readme(record, readme)
    assert readme.read_text(encoding="utf-8") == (f"before\n{base_models.README_START}\n"
                                                  f"{base_models.markdown_table(record)}{base_models.README_END}\n"
                                                  f"after\n")
    readme.write_text("no block", encoding="utf-8")
    with pytest.raises(ValueError, match="base-models:start"):
        base_models.update_readme(record, readme)


def test_regression_labels_are_floats_and_classification_labels_stay(tokenizer):
    from datasets import Dataset

    splits = {"train": Dataset.from_list([{"sentence1": "你好", "sentence2": "您好", "label": 1}])}
    assert base_models.tokenized_splits(splits, tokenizer, 1, 16)["train"][0]["labels"] == 1.0
    assert base_models.tokenized_splits(splits, tokenizer, 2, 16)["train"][0]["label"] == 1
