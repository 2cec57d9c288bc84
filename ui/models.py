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


def picker(key: str, choices: dict[str, str], default: str, label: str, placeholder: str) -> str:
    """A select box of built-in ids (``choices``: id -> label) plus a free field for any other id or folder.

    ``st.session_state[key]`` holds the chosen id, so share links can set it.
    """
    ids = list(choices)
    current = st.session_state.get(key, default)
    choice_key, other_key = f"{key}.choice", f"{key}.other"
    if choice_key not in st.session_state:
        st.session_state[choice_key] = current if current in ids else OTHER
        if current not in ids:
            st.session_state[other_key] = current
    choice = st.selectbox(label, ids + [OTHER], key=choice_key, format_func=lambda i: choices.get(i, i))
    if choice == OTHER:
        typed = st.text_input("Model id or folder", key=other_key, placeholder=placeholder)
        st.session_state[key] = typed.strip() or default
    else:
        st.session_state[key] = choice
    return st.session_state[key]


_probe_revisions: dict[str, int] = {}


def forget_retrained_probes(probes: list[str]) -> bool:
    """A probe retrained under the same id makes everything cached for its old weights stale (the loaded encoder,
    analyses, calibrations): clear the process's caches once when that happens. Returns whether it did."""
    from core.perturbed_masking.probe import probe_revision

    current = {pid: probe_revision(pid) for pid in probes}
    stale = any(_probe_revisions.get(pid, rev) != rev for pid, rev in current.items())
    _probe_revisions.update(current)
    if stale:
        st.cache_data.clear()
        st.cache_resource.clear()
    return stale


def model_picker(key: str, default: str = DEFAULT_ENCODER) -> str:
    """The encoder picker: built-in encoders, probes trained here, any Hugging Face id or folder."""
    from core.perturbed_masking.probe import read_card, scorecard, trained_probes

    probes = trained_probes()
    forget_retrained_probes(probes)
    choices = {k: c.label for k, c in BUILTIN_ENCODERS.items()}
    for pid in probes:
        card = read_card(pid) or {}
        choices[pid] = (
            f"{pid} (masked LM trained here, {card.get('preset', {}).get('name', '?')} preset, "
            f"{scorecard(card, short=True)})"
        )
    return picker(key, choices, default, "Encoder", "bert-base-uncased or /path/to/model")
