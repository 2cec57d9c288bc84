"""The probe's tokenizer from its corpus (characters for Chinese, WordPiece otherwise), packing and MLM masking."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from core.perturbed_masking.probe.corpus import Corpus

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def build_tokenizer(corpus: Corpus, folder: Path, vocab_size: int = 8000) -> Any:
    """Characters (Chinese) or a WordPiece trained on the corpus, saved in ``folder`` as a BERT tokenizer."""
    from transformers import BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    if corpus.language == "zh":
        counts = Counter(c for line in corpus.lines for c in line if not c.isspace())
        vocab = list(SPECIALS) + sorted(c for c, n in counts.items() if n >= 2)
        tok = BertTokenizerFast(
            vocab={w: i for i, w in enumerate(vocab)},
            do_lower_case=False,
            tokenize_chinese_chars=True,
            strip_accents=False,
        )
    else:
        from tokenizers import BertWordPieceTokenizer

        wp = BertWordPieceTokenizer(lowercase=True)
        wp.train_from_iterator(
            corpus.lines, vocab_size=vocab_size, min_frequency=2, special_tokens=list(SPECIALS), show_progress=False
        )
        vocab = [w for w, _ in sorted(wp.get_vocab().items(), key=lambda kv: kv[1])]
        tok = BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True)
    tok.save_pretrained(str(folder))
    return tok


def encode_corpus(tokenizer: Any, corpus: Corpus, max_len: int, pack: bool = True) -> np.ndarray:
    """The corpus as training sequences [CLS] ... [SEP] of ``max_len`` tokens. -> <int32>[n, max_len]

    ``pack``: lines run on, separated by [SEP], so no position is padding
    (half the tokens of short-sentence corpora would be padding otherwise).
    Without packing, each line is cut into pieces and padded.
    """
    body = max_len - 2
    cls, sep, pad = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
    if corpus.language == "zh":
        vocab = tokenizer.get_vocab()
        unk = tokenizer.unk_token_id
        encoded = [[vocab.get(c, unk) for c in line if not c.isspace()] for line in corpus.lines]
    else:
        encoded = tokenizer(corpus.lines, add_special_tokens=False)["input_ids"]
    rows = []
    if pack:
        stream = np.fromiter((t for ids in encoded if ids for t in (*ids, sep)), dtype=np.int64)
        for start in range(0, len(stream), body):
            piece = stream[start : start + body].tolist()
            if len(piece) >= 4:
                rows.append([cls, *piece, sep] + [pad] * (body - len(piece)))
        return np.asarray(rows, np.int32)
    for ids in encoded:
        for start in range(0, len(ids), body):
            piece = ids[start : start + body]
            if len(piece) >= 4:
                rows.append([cls, *piece, sep] + [pad] * (body - len(piece)))
    return np.asarray(rows, np.int32)


def mask_batch(
    ids: np.ndarray, rng: np.random.Generator, mask_id: int, vocab_size: int, n_special: int, rate: float = 0.15
) -> tuple[np.ndarray, np.ndarray]:
    """BERT's masking: pick ``rate`` of the real tokens; 80% -> [MASK], 10% -> random token, 10% kept.

    Returns (inputs, labels) with label -100 where nothing is predicted.
    """
    ids = np.asarray(ids)
    real = ids >= n_special  # never pick [PAD], [CLS], [SEP]
    pick = (rng.random(ids.shape) < rate) & real
    labels = np.where(pick, ids, -100)
    roll = rng.random(ids.shape)
    inputs = ids.copy()
    inputs[pick & (roll < 0.8)] = mask_id
    swap = pick & (roll >= 0.8) & (roll < 0.9)
    inputs[swap] = rng.integers(n_special, vocab_size, int(swap.sum()))
    return inputs, labels
