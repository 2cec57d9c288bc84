"""Cached model loaders and the model picker shared by the pages."""

from __future__ import annotations

import streamlit as st

from core.models.registry import BUILTIN_ENCODERS, DEFAULT_ENCODER, Encoder, ModelError, load_encoder

OTHER = "Other: Hugging Face id or local folder"


@st.cache_resource(show_spinner=False, max_entries=4)
def encoder(model_id: str) -> Encoder:
    """One encoder per id per server process, shared by every session (never mutated)."""
    return load_encoder(model_id)


def load_or_error(model_id: str) -> Encoder | None:
    """Load with a spinner; show a user-facing error instead of raising."""
    try:
        with st.spinner(f"Loading {model_id} (the first time converts or reads it from disk)..."):
            return encoder(model_id)
    except ModelError as exc:
        st.error(str(exc))
        return None


def model_picker(key: str, default: str = DEFAULT_ENCODER) -> str:
    """A select box of built-in encoders plus a free field for any other model.

    ``st.session_state[key]`` holds the chosen model id, so share links can set it.
    """
    ids = list(BUILTIN_ENCODERS)
    current = st.session_state.get(key, default)
    choice_key, other_key = f"{key}.choice", f"{key}.other"
    if choice_key not in st.session_state:
        st.session_state[choice_key] = current if current in ids else OTHER
        if current not in ids:
            st.session_state[other_key] = current
    choice = st.selectbox(
        "Encoder", ids + [OTHER], key=choice_key,
        format_func=lambda i: BUILTIN_ENCODERS[i].label if i in BUILTIN_ENCODERS else i,
    )
    if choice == OTHER:
        typed = st.text_input("Model id or folder", key=other_key, placeholder="bert-base-uncased or /path/to/model")
        st.session_state[key] = typed.strip() or default
    else:
        st.session_state[key] = choice
    return st.session_state[key]
