"""Shared fixtures: an isolated lab home and a tiny random BERT (no download)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Every test process writes into its own home, never the user's cache.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Queued jobs stay queued: a test runs the ones it needs in its own process (tests.helpers.prepare_now), and
# servers started by the browser tests inherit this, so no worker trains full-size defaults during the suite.
os.environ.setdefault("KEXUE_LAB_WORKER", "off")

TINY_WORDS = (
    "the a dog cat sat on mat . , ran away quickly big small old man who lived by sea caught huge fish "
    "yesterday she he it saw house red blue and with that chased is was very"
).split() + list("我爱北京天安门的人民中国今天")


def build_tiny_bert(folder: Path, layers: int = 2, seed: int = 0) -> Path:
    """A random BERT (hidden 32) with a WordPiece vocabulary of TINY_WORDS, saved as a folder."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *TINY_WORDS, "##s", "##ed", "##ly"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True).save_pretrained(str(folder))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(config).eval().save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def session_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("lab-home")
    os.environ["KEXUE_LAB_HOME"] = str(home)
    return home


@pytest.fixture(autouse=True)
def lab_home(session_home, monkeypatch) -> Path:
    monkeypatch.setenv("KEXUE_LAB_HOME", str(session_home))
    yield session_home
    # A page that queued a default's preparation leaves it queued: drop it, so a later test that drains the
    # queue does not train a full-size default.
    from core.lab import store

    if store.db_path().exists():
        with store.connect() as con, con:
            con.execute("UPDATE jobs SET status = 'cancelled', message = 'left by a test' WHERE status = 'queued'")


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_encoder(tiny_bert_dir):
    from core.models.registry import load_encoder

    return load_encoder(str(tiny_bert_dir))


@pytest.fixture(scope="session")
def trained_classifiers(session_home) -> Path:
    """Quick versions of the three built-in classifiers, stored where the page and CLI look for them.

    Small slices and one epoch: the mechanics are tested, not the accuracy (the
    full models are measured in the issue notes and on the page).
    """
    from core.attribution import classifiers as C

    C.train_zh_sentiment(C.CharCNNConfig(limit=1200, epochs=1))
    C.train_en_sentiment(C.HeadConfig(limit=300))
    C.train_image_cnn(C.ImageCNNConfig(limit=1500, epochs=1))
    return session_home
