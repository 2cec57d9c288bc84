"""Cached loaders: every model, data set and costly result a page keeps across reruns and sessions.

Models are loaded once per process (``st.cache_resource``) and shared by every
session; the lock that keeps two sessions from calling one model at once is
created once per process too, in core (:mod:`core.lab.compute`), and taken
around every forward batch. Results (``st.cache_data``) are keyed by the
model id and every setting that changes them, so a rerun that only flips a
display toggle does not compute again.

Encoder results are keyed by the encoder's revision too (a probe retrained
under the same id gets a new one): the new weights miss the cache, every other
model's entries stay, and the stale ones age out.

Nothing here trains: the built-in models are prepared by the lab's worker
(:mod:`ui.preparing` shows their progress), and a loader is called once they
are on disk.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from core.attribution import explain
from core.attribution.classifiers import ImageClassifier, TextClassifier, load_classifier
from core.data.images import ImageData, load_images
from core.lab import store
from core.models.registry import Encoder, load_encoder
from core.perturbed_masking import char_stats
from core.perturbed_masking import segmentation as seg
from core.perturbed_masking.char_stats import CharStats
from core.perturbed_masking.impact import SentenceAnalysis, analyse, corpus_uas_by_layer, from_bytes
from core.vae import model as vae


def _card_stamp(folder) -> float:  # noqa: ANN001 - a Path
    """When a trained model's card was written (0 if not yet): part of a cache key, so a model retrained
    under the same id misses the cache."""
    card = folder / "card.json"
    return card.stat().st_mtime if card.exists() else 0.0


@st.cache_resource(show_spinner=False, max_entries=4)
def classifier(model_id: str) -> TextClassifier | ImageClassifier:
    """One classifier per id per server process, shared by every session (never mutated)."""
    return load_classifier(model_id)


@st.cache_data(show_spinner=False, max_entries=64)
def text_explanation(
    model_id: str,
    text: str,
    methods: Sequence[str],
    steps: int,
    rule: str,
    baseline: str,
    output: str,
    reduction: str,
    label: int | None,
) -> explain.Explanation:
    """Every method's attribution of one sentence, cached by model, text and settings."""
    return explain.explain_text(classifier(model_id), text, methods, steps, rule, baseline, output, reduction, label)


@st.cache_data(show_spinner=False, max_entries=32)
def image_explanation(
    model_id: str,
    image: np.ndarray,
    methods: Sequence[str],
    steps: int,
    rule: str,
    baseline: str,
    output: str,
    label: int | None,
) -> explain.Explanation:
    """Every method's attribution of one image, cached by model, image bytes and settings."""
    return explain.explain_image(classifier(model_id), image, methods, steps, rule, baseline, output, label)


# Encoders and perturbed masking ----------------------------------------------------------------


def revision(model_id: str) -> int:
    """Changes when a probe trained here is retrained under the same id (constant for every other model)."""
    from core.perturbed_masking.probe import probe_revision

    return probe_revision(model_id)


# ``rev`` is part of every key below (a parameter named with a leading underscore would not be hashed).
@st.cache_resource(show_spinner=False, max_entries=4)
def _encoder(model_id: str, rev: int) -> Encoder:
    return load_encoder(model_id)


def encoder(model_id: str) -> Encoder:
    """One encoder per id (and revision) per server process, shared by every session (never mutated)."""
    return _encoder(model_id, revision(model_id))


@st.cache_data(show_spinner=False, max_entries=256)
def _analysis(model_id: str, rev: int, text: str, distance: str) -> SentenceAnalysis:
    return analyse(encoder(model_id), text, distance=distance)


def analysis(model_id: str, text: str, distance: str) -> SentenceAnalysis:
    """One sentence's impact matrices and reference parse."""
    return _analysis(model_id, revision(model_id), text, distance)


@st.cache_data(show_spinner=False, max_entries=16)
def saved_corpus(corpus_id: str) -> tuple[store.SavedAnalysis | None, list[SentenceAnalysis]]:
    """A saved corpus and its analyses, decoded once per corpus."""
    meta = store.get(corpus_id)
    if meta is None:
        return None, []
    return meta, [from_bytes(payload) for _text, payload in store.items(corpus_id)]


@st.cache_data(show_spinner=False, max_entries=16)
def saved_rows(corpus_id: str) -> tuple[store.SavedAnalysis | None, list[dict]]:
    """A saved corpus whose items are JSON rows (the Chinese segmentation corpora)."""
    import json

    meta = store.get(corpus_id)
    if meta is None:
        return None, []
    return meta, [json.loads(payload) for _text, payload in store.items(corpus_id)]


@st.cache_data(show_spinner=False, max_entries=64)
def corpus_layers(corpus_id: str, decoder: str, norm: str, root: str) -> tuple[list, float | None]:
    _meta, analyses = saved_corpus(corpus_id)
    return corpus_uas_by_layer(analyses, decoder, norm, root)


@st.cache_resource(show_spinner=False, max_entries=4)
def char_statistics(corpus: str | None) -> CharStats:
    """Character statistics of the default corpus (``None``) or a saved upload, as the worker counted them."""
    lines, source = char_stats.corpus_lines(corpus)
    return char_stats.cached_stats(lines, source)


@st.cache_resource(show_spinner=False, max_entries=8)
def _calibration(model_id: str, rev: int, corpus: str | None) -> seg.Calibration:
    return seg.load_or_calibrate(encoder(model_id), char_statistics(corpus))


def calibration(model_id: str, corpus: str | None) -> seg.Calibration:
    """The segmentation calibration of an encoder and statistics corpus (the worker made it)."""
    return _calibration(model_id, revision(model_id), corpus)


@st.cache_data(show_spinner=False, max_entries=256)
def _distances(model_id: str, rev: int, text: str) -> seg.CharDistances:
    return seg.neighbour_distances(encoder(model_id), text)


def distances(model_id: str, text: str) -> seg.CharDistances:
    return _distances(model_id, revision(model_id), text)


@st.cache_data(show_spinner=False, max_entries=128)
def _word_analysis(model_id: str, rev: int, text: str, words: tuple[str, ...]) -> SentenceAnalysis:
    return analyse(encoder(model_id), text, words=list(words), with_reference=False)


def word_analysis(model_id: str, text: str, words: tuple[str, ...]) -> SentenceAnalysis:
    """The word-level impact matrix over a given segmentation (no reference parse)."""
    return _word_analysis(model_id, revision(model_id), text, words)


# VAE ------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=3)
def image_data(name: str) -> ImageData:
    return load_images(name)


@st.cache_resource(show_spinner=False, max_entries=8)
def vae_model(config: vae.VAEConfig) -> vae.TrainedModel:
    """A VAE or autoencoder the worker trained (call once it is on disk)."""
    return vae.load(vae.model_dir(config))


@st.cache_data(show_spinner=False, max_entries=16)
def vae_codes(_model: vae.TrainedModel, key: str, _images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Latent codes of the test images, cached per model key (which names the data set)."""
    return vae.encode(_model, _images)


@st.cache_resource(show_spinner=False, max_entries=3)
def _language_model(model_id: str, stamp: float):  # noqa: ANN202 - core.decoding.models.LanguageModel
    from core.decoding.models import load_language_model

    return load_language_model(model_id)


def language_model(model_id: str):  # noqa: ANN201 - core.decoding.models.LanguageModel
    """One language model per id per server process, shared by every session (never mutated); an LSTM
    retrained here under the same id is a new entry (its card's time is part of the key)."""
    from core.decoding.training import model_folder

    return _language_model(model_id, _card_stamp(model_folder(model_id)))


def pinyin_models_stamp() -> tuple[float, ...]:
    """When each pinyin model was last saved (0 if not yet): part of the decoding cache's key."""
    from core.bidirectional.training import model_folder, model_name

    return tuple(_card_stamp(model_folder(model_name(kind))) for kind in ("l2r", "r2l", "bidi"))


@st.cache_data(show_spinner=False, max_entries=128)
def _pinyin_decoding(syllables: tuple[str, ...], beam: int, reference: str | None, stamp: tuple[float, ...]) -> dict:
    from core.bidirectional.decoding import decode_all

    return decode_all(syllables, beam, reference)


def pinyin_decoding(syllables: tuple[str, ...], beam: int, reference: str | None) -> dict:
    """Every available decoder on one input (cached per input, width and model versions)."""
    return _pinyin_decoding(syllables, beam, reference, pinyin_models_stamp())


@st.cache_data(show_spinner=False, max_entries=64)
def _reading_answer(name: str, passage: str, question: str, stamp: float) -> dict:
    from core.reading_comprehension.reader import answer

    return answer(name, [(passage, question)])[0]


def reading_answer(name: str, passage: str, question: str) -> dict:
    """The reader's answer with its details (cached per reader version, passage and question)."""
    from core.reading_comprehension.training import model_folder

    return _reading_answer(name, passage, question, _card_stamp(model_folder(name)))


@st.cache_data(show_spinner=False, max_entries=2)
def _reading_examples(stamp: float) -> tuple:
    from core.reading_comprehension.reader import examples

    return examples()


def reading_examples() -> tuple:
    """The test questions the page offers as examples (empty until the questions are built)."""
    from core.reading_comprehension.data import path

    return _reading_examples(path().stat().st_mtime if path().exists() else 0.0)
