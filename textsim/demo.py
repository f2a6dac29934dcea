"""``make demo``: a local web page over the models a run saved (Gradio).

Two sentences in: the scores of notebook 01's classifier, 02's regression model and 03's improved bi-encoder, each
judged at the threshold its notebook chose. A query in: the top five sentences of the corpus (the one notebooks 04
and 05 search), retrieved by the bi-encoder and reranked by the pipeline that 05 chose (04's when 05 has not run),
each with its scores. ``Demo`` does the work and is tested on its own; ``build_app`` only lays it out.

    python -m textsim.demo --profile smoke [--port 7860]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from .biencoder import BiEncoder
from .data import LABEL_NAMES, load_splits, read_pairs
from .fusion import rerank_with_fusion
from .inference import score_pairs
from .retrieval import VectorIndex, bi_encoder_search, retrieval_task
from .series.run import Run, start_run

MAX_CHARACTERS = 200  # longer input is refused: the models read at most 128 tokens
TOP = 5
# Where each reranker of notebooks 04 and 05 is saved: (notebook, sub-folder).
RERANKERS = {"01 classifier": ("01_cross_encoder_classification", ""),
             "02 regression": ("02_cross_encoder_regression", ""),
             "hard negatives, BCE": ("05_rerankers_for_ranking", "reranker_bce"),
             "hard negatives, listwise": ("05_rerankers_for_ranking", "reranker_listwise")}


class DemoInputError(ValueError):
    """Input the demo refuses, with a message for the page."""


class ModelMissing(FileNotFoundError):
    """A model the demo needs was not saved under this profile: the message names the notebook to run."""


def check_text(text, what: str) -> str:
    """``text`` stripped, or a ``DemoInputError`` for empty or over-long input."""
    text = (text or "").strip()
    if not text:
        raise DemoInputError(f"「{what}」是空的：请输入一句话")
    if len(text) > MAX_CHARACTERS:
        raise DemoInputError(f"「{what}」太长：{len(text)} 个字符，最多 {MAX_CHARACTERS} 个")
    return text


def model_folder(run: Run, notebook: str, part: str = "") -> Path:
    """The folder of a saved model, or ``ModelMissing`` naming the notebook that saves it."""
    folder = run.models_dir / notebook / part
    if not (folder / "config.json").is_file():
        raise ModelMissing(f"还没有 {notebook} 的模型（profile {run.profile.name}）：先运行 notebooks/{notebook}.ipynb"
                           f"（或 make run PROFILE={run.profile.name}，按顺序运行全部笔记本）")
    return folder


def chosen_pipeline(run: Run) -> dict:
    """The reranking pipeline that notebook 05 chose on validation queries (04's when 05 has no results):
    ``{"notebook", "name", "parts", "weight", "depth"}``."""
    for notebook in ("05_rerankers_for_ranking", "04_retrieve_and_rerank"):
        results = run.read_results(notebook)
        if results:
            name = results["best_pipeline"]
            chosen = results["fusion_chosen_on_validation"][name]
            return {"notebook": notebook, "name": name, "parts": list(results["pipelines"][name]),
                    "weight": float(chosen["weight"]), "depth": int(chosen["depth"])}
    raise ModelMissing(f"还没有重排流程（profile {run.profile.name}）：先运行 notebooks/04_retrieve_and_rerank.ipynb"
                       f"（05 篇跑过时用 05 篇选出的流程）")


class Demo:
    """The saved models of one profile, loaded once; each method answers one request of the page."""

    def __init__(self, profile: str = "smoke", root: Path | None = None):
        self.run = start_run("04_retrieve_and_rerank", profile, root=root)
        self.cross, self.missing = {}, {}
        for name, notebook in (("01 classifier", "01_cross_encoder_classification"),
                               ("02 regression", "02_cross_encoder_regression")):
            try:
                self.cross[name] = self._cross_encoder(model_folder(self.run, notebook))
            except ModelMissing as error:
                self.missing[name] = str(error)
        try:
            folder = model_folder(self.run, "03_bi_encoder", "improved")
            self.bi_tokenizer = AutoTokenizer.from_pretrained(folder)
            self.bi_encoder = BiEncoder.from_pretrained(folder).eval()
        except ModelMissing as error:
            self.bi_encoder, self.missing["03 bi-encoder"] = None, str(error)
        self.corpus, self.index, self.pipeline, self.rerankers = None, None, None, []

    def score_pair(self, first, second) -> list[dict]:
        """One row per model: its score, the threshold its notebook chose and the label at that threshold (or why
        the model is missing)."""
        pair = [(check_text(first, "句子 1"), check_text(second, "句子 2"))]
        rows = []
        for name, (model, tokenizer) in self.cross.items():
            score = float(score_pairs(model, tokenizer, pair, progress=False)[0])
            rows.append(self._row(name, score, float(getattr(model.config, "threshold", None) or 0.5)))
        if self.bi_encoder is not None:
            vectors = self.bi_encoder.encode([pair[0][0], pair[0][1]], self.bi_tokenizer)
            rows.append(self._row("03 bi-encoder (cosine)", float(vectors[0] @ vectors[1]),
                                  float(self.bi_encoder.config.threshold)))
        rows += [{"model": name, "score": None, "threshold": None, "label": message}
                 for name, message in self.missing.items()]
        return rows

    def search(self, query, k: int = TOP) -> list[dict]:
        """The corpus' top ``k`` for ``query``: retrieved by the bi-encoder, reranked by the chosen pipeline."""
        query = check_text(query, "查询")
        self._prepare_search()
        pipeline = self.pipeline
        retrieved = bi_encoder_search(self.bi_encoder, self.bi_tokenizer, self.index, self.corpus, [query],
                                      max(pipeline["depth"], k))
        fused = rerank_with_fusion([pair for _, pair in self.rerankers], self.corpus, [query], retrieved,
                                   pipeline["weight"], pipeline["depth"], k)
        ids = list(fused.ids[0])
        cosines = dict(zip(retrieved.ids[0], retrieved.scores[0]))
        raw = {name: score_pairs(model, tokenizer, [(query, self.corpus[i]) for i in ids], progress=False)
               for name, (model, tokenizer) in self.rerankers}
        return [{"rank": rank, "sentence": self.corpus[i], "fused score": round(float(fused.scores[0][rank - 1]), 3),
                 "cosine": round(float(cosines[i]), 3), "bi-encoder rank": list(retrieved.ids[0]).index(i) + 1,
                 **{name: round(float(scores[rank - 1]), 3) for name, scores in raw.items()}}
                for rank, i in enumerate(ids, start=1)]

    def describe_pipeline(self) -> str:
        try:
            self._prepare_search()
        except ModelMissing as error:
            return str(error)
        p = self.pipeline
        return (f"语料 {len(self.corpus)} 句；召回：03 篇改进后的双塔；重排：{p['notebook'][:2]} 篇在验证查询上选出的 "
                f"{p['name']}，与余弦融合（w = {p['weight']:g}，重排前 {p['depth']} 条）")

    def _prepare_search(self) -> None:
        """Load the rerankers and encode the corpus on the first query."""
        if self.index is not None:
            return
        if self.bi_encoder is None:
            raise ModelMissing(self.missing["03 bi-encoder"])
        pipeline = chosen_pipeline(self.run)
        rerankers = [(part, self._cross_encoder(model_folder(self.run, *RERANKERS[part])))
                     for part in pipeline["parts"]]
        profile = self.run.profile
        task = retrieval_task(read_pairs(self.run.data or _data()), load_splits(profile, self.run.data),
                              profile.max_corpus, profile.seed)
        vectors = self.bi_encoder.encode(task.corpus, self.bi_tokenizer)
        self.pipeline, self.rerankers, self.corpus = pipeline, rerankers, task.corpus
        self.index = VectorIndex(vectors)

    @staticmethod
    def _cross_encoder(folder: Path):
        return AutoModelForSequenceClassification.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)

    @staticmethod
    def _row(name: str, score: float, threshold: float) -> dict:
        return {"model": name, "score": round(score, 3), "threshold": round(threshold, 3),
                "label": LABEL_NAMES[int(score >= threshold)]}


def _data() -> Path:
    from .data import ensure_data

    return ensure_data()


def build_app(demo: Demo):
    """The page: a tab for a pair, a tab for a query; refused input and missing models become messages."""
    import gradio as gr
    import pandas as pd

    def pair(first, second):
        try:
            return pd.DataFrame(demo.score_pair(first, second))
        except DemoInputError as error:
            raise gr.Error(str(error)) from None

    def query(text):
        try:
            return pd.DataFrame(demo.search(text))
        except (DemoInputError, ModelMissing) as error:
            raise gr.Error(str(error)) from None

    with gr.Blocks(title="textsim 演示") as app:
        gr.Markdown(f"# textsim 演示：中文句对相似度\n模型来自 profile **{demo.run.profile.name}** 的一次运行。")
        with gr.Tab("两句话"):
            first = gr.Textbox(label="句子 1", value="我喜欢北京", elem_id="first")
            second = gr.Textbox(label="句子 2", value="我很喜欢北京这座城市", elem_id="second")
            button = gr.Button("打分", elem_id="score")
            table = gr.Dataframe(label="各模型的分数与它所在笔记本选出的阈值", elem_id="pair-result")
            button.click(pair, [first, second], table)
        with gr.Tab("查询"):
            gr.Markdown(demo.describe_pipeline())
            text = gr.Textbox(label="查询", value="胡子长得太快怎么办？", elem_id="query")
            search = gr.Button("检索并重排", elem_id="search")
            found = gr.Dataframe(label=f"前 {TOP} 句", elem_id="search-result")
            search.click(query, text, found)
    return app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="smoke", help="whose saved models to load (default: smoke)")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(argv)
    demo = Demo(args.profile)
    for message in demo.missing.values():
        print(message)
    build_app(demo).launch(server_name="127.0.0.1", server_port=args.port)


if __name__ == "__main__":
    main()
