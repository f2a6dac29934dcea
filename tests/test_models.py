"""textsim.models: tiny random checkpoints of several architectures either load whole or are refused clearly, and a
model name resolves to a folder or one clear ModelNotFoundError."""
import time
from pathlib import Path

import pytest
import torch
from transformers import (AlbertConfig, AlbertModel, AutoModelForSequenceClassification, BertConfig, BertModel,
                          BertForSequenceClassification, ElectraConfig, ElectraModel)

import textsim
import textsim.models
from textsim.biencoder import BiEncoder
from textsim.models import OFFLINE_MODEL, OFFLINE_MODELS, ModelLoadError, ModelNotFoundError, load_pretrained, resolve_model

SIZE = dict(vocab_size=60, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
            max_position_embeddings=64)
ENCODERS = {"bert": (BertConfig(**SIZE), BertModel),
            "albert": (AlbertConfig(**SIZE, embedding_size=16), AlbertModel),
            "electra": (ElectraConfig(**SIZE, embedding_size=16), ElectraModel)}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """One saved checkpoint folder per architecture, as a pretrained encoder is published."""
    folders = {}
    for name, (config, encoder_class) in ENCODERS.items():
        torch.manual_seed(0)
        folders[name] = tmp_path_factory.mktemp(name)
        encoder_class(config).save_pretrained(folders[name])
    return folders


@pytest.mark.parametrize("architecture", sorted(ENCODERS))
def test_an_auto_cross_encoder_loads_every_architecture_whole(checkpoints, architecture):
    model, new = load_pretrained(AutoModelForSequenceClassification, str(checkpoints[architecture]), num_labels=2)
    assert model.config.model_type == architecture
    assert new and all(key.startswith("classifier.") for key in new)  # only the head is new
    assert model(input_ids=torch.tensor([[2, 5, 7, 3]])).logits.shape == (1, 2)


@pytest.mark.parametrize("architecture", ["albert", "electra"])
def test_a_bert_class_refuses_another_architecture(checkpoints, architecture):
    with pytest.raises(ModelLoadError, match=rf"{architecture}.*(random values|another shape)"):
        load_pretrained(BertForSequenceClassification, str(checkpoints[architecture]), num_labels=2)


def test_weights_of_the_same_architecture_but_missing_are_named(checkpoints, tmp_path):
    """An ALBERT whose embedding size equals its hidden size has no shape clash: the missing names tell."""
    torch.manual_seed(0)
    AlbertModel(AlbertConfig(**SIZE, embedding_size=32)).save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match=r"model_type 'albert'.*lacks \d+ encoder weights.*random values"):
        load_pretrained(BertForSequenceClassification, str(tmp_path), num_labels=2)


@pytest.mark.parametrize("architecture", ["albert", "electra"])
def test_the_bi_encoder_refuses_a_checkpoint_that_is_not_bert(checkpoints, architecture):
    with pytest.raises(ModelLoadError, match="BiEncoder"):
        load_pretrained(BiEncoder, str(checkpoints[architecture]), pooling="mean", loss="contrastive")


def test_the_bi_encoder_loads_a_bert_checkpoint_with_nothing_new(checkpoints):
    model, new = load_pretrained(BiEncoder, str(checkpoints["bert"]), pooling="pooler")
    assert new == []
    reference = BertModel.from_pretrained(str(checkpoints["bert"]))
    assert torch.equal(model.bert.embeddings.word_embeddings.weight, reference.embeddings.word_embeddings.weight)


def test_a_checkpoint_without_a_pooler_loads_and_names_it_as_new(tmp_path):
    """MLM-only checkpoints (ckiplab's albert-tiny-chinese) have no pooler: it is trained like the head."""
    torch.manual_seed(0)
    AlbertModel(AlbertConfig(**SIZE, embedding_size=16), add_pooling_layer=False).save_pretrained(tmp_path)
    model, new = load_pretrained(AutoModelForSequenceClassification, str(tmp_path), num_labels=2)
    assert model.config.model_type == "albert"
    assert sorted(new) == ["albert.pooler.bias", "albert.pooler.weight", "classifier.bias", "classifier.weight"]


# --- finding a model: an offline wheel, a folder, the Hub cache, the Hub --------------------------------------

@pytest.mark.parametrize("name", sorted(OFFLINE_MODELS))
def test_each_offline_model_resolves_to_an_installed_folder(name):
    folder = Path(resolve_model(name))
    assert (folder / "config.json").is_file()
    assert (folder / "vocab.txt").is_file() or (folder / "tokenizer.json").is_file()
    assert textsim.models.absolute_model_path(name) == name  # a name, not a folder


def test_resolve_model_returns_a_local_folder_as_is(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    assert resolve_model(str(folder)) == str(folder)


def test_resolve_model_expands_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "models" / "mine").mkdir(parents=True)
    (tmp_path / "models" / "mine" / "config.json").write_text("{}", encoding="utf-8")
    assert resolve_model("~/models/mine") == str(tmp_path / "models" / "mine")


def test_resolve_model_finds_the_installed_m3e_small():
    folder = Path(resolve_model("m3e-small"))
    assert folder.name == "m3e-small"
    assert (folder / "config.json").is_file()
    assert (folder / "tokenizer.json").is_file()


def test_offline_model_dir_reports_a_missing_package(monkeypatch):
    real_find_spec = textsim.models.importlib.util.find_spec
    monkeypatch.setattr(textsim.models.importlib.util, "find_spec",
                        lambda name, *args: None if name == "embedding" else real_find_spec(name, *args))
    with pytest.raises(ModelNotFoundError, match="make setup"):
        resolve_model("m3e-small")


def test_missing_hub_model_raises_model_not_found_quickly():
    name = "textsim-tests/surely-not-a-real-model-4f1c"
    start = time.perf_counter()
    with pytest.raises(ModelNotFoundError) as caught:
        resolve_model(name)
    assert time.perf_counter() - start < 20  # offline: no network wait
    message = str(caught.value)
    assert "TEXTSIM_MODEL" in message
    assert repr(name) in message
    assert isinstance(caught.value, RuntimeError)
    assert textsim.ModelNotFoundError is ModelNotFoundError


def test_missing_local_path_raises_model_not_found(tmp_path):
    with pytest.raises(ModelNotFoundError, match="TEXTSIM_MODEL"):
        resolve_model(str(tmp_path / "no" / "such" / "folder"))


def test_a_folder_without_config_json_is_not_a_model(tmp_path):
    (tmp_path / "vocab.txt").write_text("[PAD]\n", encoding="utf-8")
    with pytest.raises(ModelNotFoundError, match="config.json") as caught:
        resolve_model(str(tmp_path))
    assert str(tmp_path) in str(caught.value)


def test_offline_hub_miss_says_how_to_go_online(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE"):
        resolve_model("textsim-tests/surely-not-a-real-model-4f1c")


@pytest.mark.parametrize("files, weights", [
    (["config.json", "model.safetensors", "pytorch_model.bin", "vocab.txt"], "*.safetensors"),
    (["config.json", "pytorch_model.bin", "vocab.txt"], "*.bin"),
])
def test_hub_download_takes_safetensors_else_pytorch_bin(monkeypatch, tmp_path, files, weights):
    import huggingface_hub

    asked = {}

    def fake_snapshot(name, local_files_only=False, allow_patterns=None, **kwargs):
        if local_files_only:
            raise FileNotFoundError("not cached")
        asked["patterns"] = allow_patterns
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot)
    monkeypatch.setattr(huggingface_hub, "list_repo_files", lambda name, **kwargs: files)
    assert resolve_model("someone/some-model") == str(tmp_path)
    assert weights in asked["patterns"] and "*.json" in asked["patterns"]
    assert ("*.bin" in asked["patterns"]) == (weights == "*.bin")


def test_relative_model_folder_is_pinned_to_where_the_user_is(tmp_path, monkeypatch):
    from textsim.models import absolute_model_path

    (tmp_path / "my-model").mkdir()
    monkeypatch.chdir(tmp_path)
    assert absolute_model_path("my-model") == str(tmp_path / "my-model")
    assert absolute_model_path("someone/hub-id") == "someone/hub-id"  # not a folder here: a Hub id
    assert absolute_model_path(OFFLINE_MODEL) == OFFLINE_MODEL

