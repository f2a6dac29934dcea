"""textsim.models: tiny random checkpoints of several architectures either load whole or are refused clearly."""
import pytest
import torch
from transformers import (AlbertConfig, AlbertModel, AutoModelForSequenceClassification, BertConfig, BertModel,
                          BertForSequenceClassification, ElectraConfig, ElectraModel)

from textsim.biencoder import BiEncoder
from textsim.models import ModelLoadError, load_pretrained

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
