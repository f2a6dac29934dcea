"""python -m textsim.train: clear errors on bad data, each recipe end to end on a tiny model, and a launch of two CPU
processes with torchrun (DDP over gloo) that must split alike, train on different batches and save once."""
import csv
import json
import math
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from transformers import AutoModelForSequenceClassification

import textsim
from textsim.biencoder import BiEncoder
from textsim.series.profiles import PROFILES
from textsim.series.launch_record import FirstBatch, split_digest
from textsim.train import main


def write_table(path, rows, separator=","):
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=["sentence1", "sentence2", "label"], delimiter=separator)
        writer.writeheader()
        writer.writerows(rows)
    return path


def train(tmp_path, base, data, recipe="classification", *extra):
    return main(["--recipe", recipe, "--data", str(data), "--profile", "smoke", "--model", str(base),
                 "--out", str(tmp_path / "out"), *extra])


# --- bad input: one clear error naming the file (and line, and column), nothing trained --------------------------

def test_a_missing_file_is_named(tmp_path, base, capsys):
    assert train(tmp_path, base, tmp_path / "absent.csv") == 1
    error = capsys.readouterr().err
    assert f"{tmp_path / 'absent.csv'}: file not found" in error and "make data" not in error
    assert not (tmp_path / "out").exists()


def test_a_missing_column_is_named(tmp_path, base, capsys):
    path = tmp_path / "pairs.csv"
    path.write_text("sentence1,sentence2,score\n今天,天气,1\n", encoding="utf-8")
    assert train(tmp_path, base, path) == 1
    assert f"{path}:1: missing column 'label'" in capsys.readouterr().err


@pytest.mark.parametrize("suffix, separator", [(".csv", ","), (".tsv", "\t")])
def test_a_bad_label_names_file_line_and_value(tmp_path, base, capsys, make_rows, suffix, separator):
    rows = make_rows(30)
    rows[6]["label"] = "2"
    path = write_table(tmp_path / f"pairs{suffix}", rows, separator)
    assert train(tmp_path, base, path) == 1
    error = capsys.readouterr().err
    assert f"{path}:8: label must be 0 or 1" in error and "'2'" in error  # header = line 1, rows[6] = line 8


def test_a_bad_json_line_is_named(tmp_path, base, capsys, write_jsonl, make_rows):
    path = write_jsonl([*make_rows(5), {"sentence1": "今天", "sentence2": " ", "label": 1}])
    assert train(tmp_path, base, path) == 1
    assert f"{path}:6: sentence2 must be a non-empty string" in capsys.readouterr().err


def test_an_unknown_recipe_is_an_argparse_error(tmp_path, base, capsys):
    with pytest.raises(SystemExit):
        train(tmp_path, base, tmp_path / "x.csv", "cosent")
    assert "invalid choice: 'cosent'" in capsys.readouterr().err


def test_a_model_folder_without_config_is_named(tmp_path, make_rows, capsys):
    (tmp_path / "empty").mkdir()
    path = write_table(tmp_path / "pairs.csv", make_rows(30))
    assert train(tmp_path, tmp_path / "empty", path) == 1
    assert "has no config.json" in capsys.readouterr().err


def one_error_line(capsys) -> str:
    """The one 'error: ' line the command printed on stderr, last, with no traceback (progress bars may precede
    it once training has started)."""
    error = capsys.readouterr().err
    lines = error.splitlines()
    assert lines and lines[-1].startswith("error: ") and "Traceback" not in error, error
    assert sum(line.startswith("error:") for line in lines) == 1, error
    return lines[-1]


def test_an_out_that_is_a_file_is_one_error_line(tmp_path, base, make_rows, capsys):
    occupied = tmp_path / "occupied"
    occupied.write_text("not a folder", encoding="utf-8")
    data = write_table(tmp_path / "pairs.csv", make_rows(30))
    for out in (occupied, occupied / "inside"):
        assert main(["--recipe", "classification", "--data", str(data), "--profile", "smoke", "--model", str(base),
                     "--out", str(out)]) == 1
        assert f"--out {out}: " in one_error_line(capsys)
    assert occupied.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.parametrize("kind", ["a file", "corrupt config", "absent"])
def test_a_bad_model_is_one_error_line(tmp_path, make_rows, capsys, kind):
    model = tmp_path / "model"
    if kind == "a file":
        model.write_text("weights?", encoding="utf-8")
    elif kind == "corrupt config":
        model.mkdir()
        (model / "config.json").write_text("{not json", encoding="utf-8")
    path = write_table(tmp_path / "pairs.csv", make_rows(30))
    assert train(tmp_path, model, path) == 1
    assert str(model) in one_error_line(capsys)
    assert not (tmp_path / "out" / "results").exists()


@pytest.mark.parametrize("kind", ["a folder", "bytes"])
def test_bad_data_is_one_error_line(tmp_path, base, capsys, kind):
    data = tmp_path / "pairs.json"
    if kind == "a folder":
        data.mkdir()
    else:
        data.write_bytes(b"\x00\xff\xfe garbage \x80\n")
    assert train(tmp_path, base, data) == 1
    assert str(data) in one_error_line(capsys)


def test_data_of_one_label_is_refused_with_the_label_counts(tmp_path, base, make_rows, capsys):
    """300 pairs all labelled 1 used to train and print test accuracy 1.0, as the majority class does."""
    rows = [{**row, "label": 1} for row in make_rows(300)]
    path = write_table(tmp_path / "all_similar.csv", rows)
    assert train(tmp_path, base, path) == 1
    error = one_error_line(capsys)
    assert "no pair of label 0" in error and "train {1: 240}" in error and "test {1: 30}" in error
    assert not (tmp_path / "out" / "models").exists()


def test_a_split_without_one_label_is_refused(tmp_path, base, make_rows, capsys):
    rows = make_rows(200, positive_share=0.0)
    for row in rows[:2]:  # two pairs of label 1: the stratified split leaves one split without any
        row["label"] = 1
    path = write_table(tmp_path / "rare.csv", rows)
    assert train(tmp_path, base, path) == 1
    assert "no pair of label 1" in one_error_line(capsys)


def test_ctrl_c_during_training_writes_nothing_and_says_so(tmp_path, base, make_rows, capsys, monkeypatch):
    def interrupted(trainer):
        raise KeyboardInterrupt

    monkeypatch.setattr("textsim.train.timed_train", interrupted)
    path = write_table(tmp_path / "pairs.csv", make_rows(60))
    assert train(tmp_path, base, path) == 130
    error = one_error_line(capsys)
    assert "interrupted while training" in error and "nothing was saved" in error
    assert not (tmp_path / "out" / "models").exists() and not (tmp_path / "out" / "results").exists()


def test_a_failure_while_saving_leaves_no_model_that_looks_complete(tmp_path, base, make_rows, monkeypatch):
    """Saving writes into a temporary folder that replaces the model folder only once it is complete."""
    from transformers import PreTrainedModel

    def crash_half_way(self, output_dir, **kwargs):
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        (Path(output_dir) / "config.json").write_text("{}", encoding="utf-8")  # written, weights not yet
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("textsim.train.timed_train", lambda trainer: 0.0)
    monkeypatch.setattr(PreTrainedModel, "save_pretrained", crash_half_way)
    path = write_table(tmp_path / "pairs.csv", make_rows(60))
    assert train(tmp_path, base, path) == 1
    models = tmp_path / "out" / "models"
    assert not models.exists() or not any(p.name == "train_classification" for p in models.rglob("*"))
    assert not (tmp_path / "out" / "results").exists()


def test_ctrl_c_while_saving_waits_for_the_model_and_results(tmp_path, base, make_rows, capsys, monkeypatch):
    import os
    import signal

    from transformers import PreTrainedModel

    real_save = PreTrainedModel.save_pretrained

    def interrupted_save(self, output_dir, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C half-way through saving
        return real_save(self, output_dir, **kwargs)

    monkeypatch.setattr("textsim.train.timed_train", lambda trainer: 0.0)
    monkeypatch.setattr(PreTrainedModel, "save_pretrained", interrupted_save)
    path = write_table(tmp_path / "pairs.csv", make_rows(60))
    assert train(tmp_path, base, path) == 130
    assert "interrupted while saving" in one_error_line(capsys)
    assert (tmp_path / "out" / "models" / "smoke-pairs" / "train_classification" / "model.safetensors").is_file()
    assert (tmp_path / "out" / "results" / "smoke-pairs" / "train_classification.json").is_file()


# --- each recipe, one process -----------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["classification", "regression", "bi-original", "bi-improved"])
def test_each_recipe_saves_its_model_and_results(tmp_path, base, make_rows, recipe):
    data = write_table(tmp_path / "mine.tsv", make_rows(60), "\t")
    assert train(tmp_path, base, data, recipe) == 0
    folder = tmp_path / "out" / "models" / "smoke-mine" / f"train_{recipe}"
    results = json.loads((tmp_path / "out" / "results" / "smoke-mine" / f"train_{recipe}.json").read_text())
    assert results["recipe"] == recipe and results["processes"] == 1 and results["model"] == str(base)
    assert results["data"] == str(data) and results["split_sizes"] == {"train": 48, "validation": 6, "test": 6}
    sources = [row["threshold_source"] for row in results["rows"]]
    expected = {"classification": ["fixed (argmax of 2 logits)"],
                "regression": ["fixed 0.5 (original)", "validation (max accuracy)"],
                "bi-original": ["fixed 0.8 (original)", "validation (max accuracy)"],
                "bi-improved": ["validation (max accuracy)"]}[recipe]
    assert sources == expected and list(results["validation"]) == expected
    assert all(0 <= row["accuracy"] <= 1 and row["pairs"] == 6 for row in results["rows"])
    model_class = BiEncoder if recipe.startswith("bi") else AutoModelForSequenceClassification
    model = model_class.from_pretrained(folder)
    assert (folder / "tokenizer_config.json").is_file()
    if "validation (max accuracy)" in sources:
        assert model.config.threshold == pytest.approx(results["rows"][-1]["threshold"], abs=5e-5)  # rows: 4 digits


def test_first_batch_keeps_the_first_batch_only(tokenizer):
    features = [{"input_ids": [2, 7, 3], "label": 1}, {"input_ids": [2, 8, 9, 3], "label": 0}]
    seen = []
    recorder = FirstBatch(lambda batch: seen.append(batch) or "collated")
    assert recorder(features) == "collated" and recorder([{"input_ids": [2, 5, 3], "label": 1}]) == "collated"
    assert recorder.pairs == [[2, 7, 3], [2, 8, 9, 3]] and len(seen) == 2
    sides = FirstBatch(lambda batch: None)
    sides([{"input_ids_2": [2, 6, 3], "input_ids_1": [2, 5, 3], "attention_mask_1": [1, 1, 1]}])
    assert sides.pairs == [[2, 5, 3, 2, 6, 3]]  # side 1 then side 2


# --- two processes: torchrun ------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_torchrun_two_cpu_processes(tmp_path, base, make_rows, tokenizer):
    data = write_table(tmp_path / "mine.tsv", make_rows(160), "\t")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(free_port()), "-m", "textsim.train", "--recipe", "classification", "--data", str(data),
               "--profile", "smoke", "--model", str(base), "--out", str(out), "--record-ranks"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                               "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-3000:]
    checkpoints = out / "build" / "checkpoints" / "smoke-mine" / "train_classification"
    assert sorted(path.name for path in (checkpoints / "ranks").iterdir()) == ["rank0.json", "rank1.json"]
    ranks = [json.loads((checkpoints / "ranks" / f"rank{k}.json").read_text()) for k in (0, 1)]
    assert [(r["rank"], r["world_size"]) for r in ranks] == [(0, 2), (1, 2)]  # one DDP run, not two runs of one
    assert [r["saved"] for r in ranks] == [True, False]  # only rank 0 wrote the model and the results
    splits = textsim.load_splits(PROFILES["smoke"], data)
    assert ranks[0]["split"] == ranks[1]["split"] == split_digest(splits)  # the seeded split, on every rank
    first = [{tuple(ids) for ids in r["first_batch"]} for r in ranks]
    assert len(first[0]) == len(first[1]) == 32 and first[0].isdisjoint(first[1])  # different batches
    train_pairs = {tuple(tokenizer(a, b)["input_ids"]) for a, b in zip(splits["train"]["sentence1"],
                                                                        splits["train"]["sentence2"])}
    assert first[0] | first[1] <= train_pairs
    models = out / "models" / "smoke-mine"
    assert [p.name for p in models.iterdir()] == ["train_classification"]
    assert (models / "train_classification" / "model.safetensors").is_file()
    results = json.loads((out / "results" / "smoke-mine" / "train_classification.json").read_text())
    assert results["processes"] == 2 and done.stdout.count("results:") == 1
    # A per-pair mean loss is not multiplied by the number of processes: a random 2-label head starts near ln 2.
    state = json.loads(next(checkpoints.glob("checkpoint-*/trainer_state.json")).read_text())
    first_eval = next(entry["eval_loss"] for entry in state["log_history"] if "eval_loss" in entry)
    assert abs(first_eval - math.log(2)) < 0.05, first_eval
