"""textsim.export: the saved folders load in sentence-transformers and give our numbers, on the tiny models.

``SentenceTransformer(folder).encode`` against ``BiEncoder.encode`` for each pooling, the folder reloaded as a
``BiEncoder``; ``CrossEncoder(folder).predict`` / ``.rank`` against ``score_pairs`` for one output and two labels;
the models the export refuses.
"""
import json

import numpy as np
import pytest
import torch
from torch import nn

from textsim.biencoder import BiEncoder
from textsim.export import save_for_cross_encoder, save_for_sentence_transformers
from textsim.inference import score_pairs
from textsim.models import load_pretrained
from textsim.retrieval import cross_encoder_rank

MAX_LENGTH = 16  # shorter than the last sentence, so both sides truncate it
SENTENCES = ["今天天气很好", "我喜欢吃苹果", "你", "iPhone 15 怎么办", "求部小时候的动画片，谢了！",
             "今天天气很好我喜欢吃苹果你在哪里这是一个测试句子相似不的人们去学校"]
THRESHOLD = 0.73  # not the default 0.8: the reloaded folder must keep the model's own


def largest_difference(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    return float(np.abs(a - b).max())


# --- bi-encoder -> SentenceTransformer ---------------------------------------------------------------------------

@pytest.fixture(params=["mean", "pooler", "cls"])
def exported_biencoder(request, make_biencoder, tokenizer, tmp_path):
    """A tiny BiEncoder of each pooling and the folder ``save_for_sentence_transformers`` wrote for it."""
    model = make_biencoder(pooling=request.param, loss="cosent", threshold=THRESHOLD)
    folder = save_for_sentence_transformers(model, tokenizer, tmp_path / "st", max_length=MAX_LENGTH)
    return model, folder


def test_sentence_transformer_encodes_like_the_biencoder(exported_biencoder, tokenizer):
    from sentence_transformers import SentenceTransformer

    model, folder = exported_biencoder
    ours = model.encode(SENTENCES, tokenizer, max_length=MAX_LENGTH)
    # The last sentence is cut at MAX_LENGTH tokens: without the same truncation the vectors would differ.
    assert largest_difference(ours[-1:], model.encode(SENTENCES[-1:], tokenizer)) > 1e-4
    library = SentenceTransformer(str(folder), device="cpu")
    assert library.max_seq_length == MAX_LENGTH
    vectors = library.encode(SENTENCES)
    assert largest_difference(vectors, ours) < 1e-5
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-6)
    # A pooler exists in the loaded encoder only where it was trained: none is newly initialised (and reported).
    model_pooler = model.bert.pooler is not None
    assert (library[0].auto_model.pooler is not None) == model_pooler == (model.config.pooling == "pooler")


def test_exported_folder_reloads_as_the_same_biencoder(exported_biencoder, tokenizer):
    model, folder = exported_biencoder
    ours = model.encode(SENTENCES, tokenizer, max_length=MAX_LENGTH)
    reloaded = BiEncoder.from_pretrained(folder).eval()
    loaded, new_weights = load_pretrained(BiEncoder, str(folder))
    assert new_weights == []  # nothing of the encoder or its pooler is initialised afresh
    for again in (reloaded, loaded.eval()):
        assert (again.config.pooling, again.config.threshold) == (model.config.pooling, THRESHOLD)
        assert again.config.loss == "cosent"
        assert largest_difference(again.encode(SENTENCES, tokenizer, max_length=MAX_LENGTH), ours) < 1e-6


# --- cross-encoder -> CrossEncoder -------------------------------------------------------------------------------

@pytest.fixture
def make_cross_encoder(tiny_config):
    """Tiny random cross-encoders whose scores are spread apart (initializer_range 0.3): ``make(num_labels)``."""
    from transformers import BertForSequenceClassification

    def make(num_labels: int, seed: int = 0):
        torch.manual_seed(seed)
        return BertForSequenceClassification(tiny_config(num_labels=num_labels, initializer_range=0.3)).eval()

    return make


def load_cross_encoder(folder):
    from sentence_transformers import CrossEncoder

    return CrossEncoder(str(folder), device="cpu")


def test_one_output_predicts_the_raw_score(make_cross_encoder, tokenizer, sentence_pairs, tmp_path):
    model = make_cross_encoder(num_labels=1)
    library = load_cross_encoder(save_for_cross_encoder(model, tokenizer, tmp_path / "ce"))
    ours = score_pairs(model, tokenizer, sentence_pairs)
    assert np.any((ours < 0) | (ours > 1))  # raw outputs, which a sigmoid would squash into (0, 1)
    assert largest_difference(library.predict(sentence_pairs), ours) < 1e-5


def test_two_labels_predict_the_probability_of_similar(make_cross_encoder, tokenizer, sentence_pairs, tmp_path):
    model = make_cross_encoder(num_labels=2)
    library = load_cross_encoder(save_for_cross_encoder(model, tokenizer, tmp_path / "ce"))
    assert library.num_labels == 1
    ours = score_pairs(model, tokenizer, sentence_pairs)  # softmax(logits)[:, 1]
    predicted = library.predict(sentence_pairs)
    assert predicted.shape == (len(sentence_pairs),)
    assert largest_difference(predicted, ours) < 1e-6


def test_two_labels_rank_candidates_as_score_pairs_does(make_cross_encoder, tokenizer, tmp_path):
    model = make_cross_encoder(num_labels=2)
    library = load_cross_encoder(save_for_cross_encoder(model, tokenizer, tmp_path / "ce"))
    query, documents = "今天天气怎么样", ["今天天气很好", "我喜欢吃苹果", "你在哪里", "这是一个测试句子",
                                          "小时候动画片", "想买台新电脑", "天气不好", "今天去学校"]
    ours = cross_encoder_rank(model, tokenizer, documents, [query], [list(range(len(documents)))],
                              k=len(documents))
    assert np.diff(sorted(ours.scores[0])).min() > 1e-4  # no near-ties: the order is decided
    ranked = library.rank(query, documents)
    assert [hit["corpus_id"] for hit in ranked] == ours.ids[0]
    assert largest_difference([hit["score"] for hit in ranked], ours.scores[0]) < 1e-6


def test_exporting_leaves_the_two_label_model_as_it_was(make_cross_encoder, tokenizer, sentence_pairs, tmp_path):
    model = make_cross_encoder(num_labels=2)
    head = {name: value.clone() for name, value in model.classifier.state_dict().items()}
    config = model.config.to_dict()
    before = score_pairs(model, tokenizer, sentence_pairs)
    save_for_cross_encoder(model, tokenizer, tmp_path / "ce")
    assert model.config.num_labels == 2 and model.classifier.out_features == 2
    assert model.config.to_dict() == config
    for name, value in model.classifier.state_dict().items():
        assert torch.equal(value, head[name]), name
    assert largest_difference(score_pairs(model, tokenizer, sentence_pairs), before) == 0


def test_exporting_leaves_the_one_output_model_config_as_it_was(make_cross_encoder, tokenizer, tmp_path):
    model = make_cross_encoder(num_labels=1)
    config = model.config.to_dict()
    folder = save_for_cross_encoder(model, tokenizer, tmp_path / "ce", max_length=64)
    after = model.config.to_dict()
    assert not hasattr(model.config, "sentence_transformers")  # the activation goes into the saved config.json only
    unchanged = set(config) - {"architectures", "dtype"}  # save_pretrained itself records these two
    assert {key: after[key] for key in unchanged} == {key: config[key] for key in unchanged}
    saved = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert saved["sentence_transformers"] == {"activation_fn": "torch.nn.modules.linear.Identity"}
    assert json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))["model_max_length"] == 64


def test_three_labels_are_refused(make_cross_encoder, tokenizer, tmp_path):
    with pytest.raises(ValueError, match=r"1 or 2 outputs, this model has 3"):
        save_for_cross_encoder(make_cross_encoder(num_labels=3), tokenizer, tmp_path / "ce")
    assert not (tmp_path / "ce").exists()


@pytest.fixture
def roberta_classifier(tiny_config):
    """A two-label RoBERTa: its ``classifier`` is a RobertaClassificationHead (dense, tanh, out_proj)."""
    from transformers import RobertaConfig, RobertaForSequenceClassification

    sizes = {key: value for key, value in tiny_config(num_labels=2).to_dict().items()
             if key in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                        "intermediate_size", "num_labels")}
    return RobertaForSequenceClassification(RobertaConfig(**sizes)).eval()


@pytest.fixture
def sequential_head_classifier(make_cross_encoder):
    """A two-label BERT whose linear head is wrapped in an ``nn.Sequential``."""
    model = make_cross_encoder(num_labels=2)
    model.classifier = nn.Sequential(nn.Linear(model.config.hidden_size, 2))
    return model


@pytest.mark.parametrize("fixture, head", [("roberta_classifier", "RobertaClassificationHead"),
                                           ("sequential_head_classifier", "Sequential")])
def test_a_head_other_than_a_linear_classifier_is_refused(fixture, head, request, tokenizer, tmp_path):
    model = request.getfixturevalue(fixture)
    with pytest.raises(ValueError, match=rf"expected a linear two-label head `classifier`, found {head}"):
        save_for_cross_encoder(model, tokenizer, tmp_path / "ce")
    assert not (tmp_path / "ce").exists()


def test_pairs_longer_than_128_tokens_are_cut_as_score_pairs_cuts_them(tiny_config, tokenizer, tmp_path):
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    model = BertForSequenceClassification(tiny_config(num_labels=1, max_position_embeddings=512,
                                                      initializer_range=0.5)).eval()
    library = load_cross_encoder(save_for_cross_encoder(model, tokenizer, tmp_path / "ce"))
    pairs = [("今天天气很好" * 15, "我喜欢吃苹果" * 15)]  # 180 tokens: past score_pairs' max_length of 128
    assert largest_difference(library.predict(pairs), score_pairs(model, tokenizer, pairs)) < 1e-5
