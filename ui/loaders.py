"""Cached loaders: every model, data set and costly result a page keeps across reruns and sessions.

Models are loaded once per process (``st.cache_resource``) and shared by every
session; the lock that keeps two sessions from calling one model at once is
created once per process too, in core (:mod:`core.lab.compute`), and taken
around every forward batch. Results (``st.cache_data``) are keyed by the
model id and every setting that changes them, so a rerun that only flips a
display toggle does not compute again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from core.attribution import explain
from core.attribution.classifiers import ImageClassifier, TextClassifier, load_classifier


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
