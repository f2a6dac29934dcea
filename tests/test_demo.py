"""textsim.demo without a browser: input checks, the messages for missing models, the chosen pipeline, pair scores
on tiny saved models (the page itself is checked in tests/browser/test_demo_page.py on the smoke models)."""
import json

import pytest

from textsim.demo import MAX_CHARACTERS, Demo, DemoInputError, ModelMissing, check_text, chosen_pipeline
from textsim.inference import score_pairs
from textsim.series.run import start_run


def test_check_text_strips_and_refuses_empty_or_long_input():
    assert check_text("  你好 ", "查询") == "你好"
    for empty in ("", "   ", None):
        with pytest.raises(DemoInputError, match="「查询」是空的"):
            check_text(empty, "查询")
    with pytest.raises(DemoInputError, match=f"「句子 1」太长：{MAX_CHARACTERS + 1} 个字符，最多 {MAX_CHARACTERS} 个"):
        check_text("好" * (MAX_CHARACTERS + 1), "句子 1")


def test_missing_models_name_the_notebook_to_run(tmp_path):
    demo = Demo("smoke", root=tmp_path)
    assert demo.cross == {} and demo.bi_encoder is None
    assert "notebooks/01_cross_encoder_classification.ipynb" in demo.missing["01 classifier"]
    assert "notebooks/03_bi_encoder.ipynb" in demo.missing["03 bi-encoder"]
    rows = demo.score_pair("我喜欢北京", "我很喜欢北京这座城市")
    assert [row["score"] for row in rows] == [None, None, None]
    with pytest.raises(ModelMissing, match="notebooks/03_bi_encoder.ipynb"):
        demo.search("胡子长得太快怎么办？")
    assert "notebooks/03_bi_encoder.ipynb" in demo.describe_pipeline()


def write_results(run, notebook, best, parts, weight=0.5, depth=20):
    run.results_dir.mkdir(parents=True, exist_ok=True)
    (run.results_dir / f"{notebook}.json").write_text(json.dumps({
        "profile": "smoke", "model": "x", "best_pipeline": best, "pipelines": {best: parts},
        "fusion_chosen_on_validation": {best: {"weight": weight, "depth": float(depth), "mrr@10": 0.5}}}))


def test_chosen_pipeline_prefers_05_then_04_else_names_the_notebook(tmp_path):
    run = start_run("04_retrieve_and_rerank", "smoke", root=tmp_path)
    with pytest.raises(ModelMissing, match="notebooks/04_retrieve_and_rerank.ipynb"):
        chosen_pipeline(run)
    write_results(run, "04_retrieve_and_rerank", "02 regression", ["02 regression"], 0.4, 20)
    assert chosen_pipeline(run) == {"notebook": "04_retrieve_and_rerank", "name": "02 regression",
                                    "parts": ["02 regression"], "weight": 0.4, "depth": 20}
    write_results(run, "05_rerankers_for_ranking", "BCE + listwise",
                  ["hard negatives, BCE", "hard negatives, listwise"], 0.5, 50)
    assert chosen_pipeline(run)["parts"] == ["hard negatives, BCE", "hard negatives, listwise"]


def test_score_pair_judges_each_model_at_its_saved_threshold(tmp_path, tiny_cross_encoder, tiny_biencoder,
                                                            tokenizer):
    models = tmp_path / "models" / "smoke"
    tiny_cross_encoder.save_pretrained(models / "01_cross_encoder_classification")
    tokenizer.save_pretrained(models / "01_cross_encoder_classification")
    tiny_biencoder.config.threshold = 0.25
    tiny_biencoder.save_pretrained(models / "03_bi_encoder" / "improved")
    tokenizer.save_pretrained(models / "03_bi_encoder" / "improved")
    rows = {row["model"]: row for row in Demo("smoke", root=tmp_path).score_pair("我喜欢北京", "我很喜欢北京")}
    expected = float(score_pairs(tiny_cross_encoder, tokenizer, [("我喜欢北京", "我很喜欢北京")], progress=False)[0])
    assert rows["01 classifier"]["score"] == round(expected, 3) and rows["01 classifier"]["threshold"] == 0.5
    vectors = tiny_biencoder.encode(["我喜欢北京", "我很喜欢北京"], tokenizer)
    cosine = rows["03 bi-encoder (cosine)"]
    assert cosine["score"] == round(float(vectors[0] @ vectors[1]), 3) and cosine["threshold"] == 0.25
    assert cosine["label"] == ("相似" if vectors[0] @ vectors[1] >= 0.25 else "不相似")
    assert rows["02 regression"]["score"] is None and "02_cross_encoder_regression" in rows["02 regression"]["label"]
    with pytest.raises(DemoInputError, match="「句子 2」是空的"):
        Demo("smoke", root=tmp_path).score_pair("你好", " ")
