"""The model pickers shared by the pages, and loading an encoder with a message instead of a traceback."""

from __future__ import annotations

import streamlit as st

from core.models.registry import BUILTIN_ENCODERS, DEFAULT_ENCODER, Encoder, ModelError
from ui.i18n import N_, _, error, text
from ui.loaders import encoder

OTHER = N_("Other: Hugging Face id or local folder")  # the picker's last option (shown translated)


def load_or_error(model_id: str) -> Encoder | None:
    """Load with a spinner; show a user-facing error instead of raising. An encoder the lab's worker prepares
    (e5's conversion) shows that job's status until it is ready, and returns None meanwhile."""
    from core.perturbed_masking import jobs as pm_jobs
    from ui import preparing

    prep = pm_jobs.encoder_preparation(model_id)
    if prep is not None and not preparing.ready(prep, "encoder.prepare"):
        return None
    try:
        with st.spinner(
            _("Loading {model_id} (the first time converts or reads it from disk)...").format(model_id=model_id)
        ):
            return encoder(model_id)
    except ModelError as exc:
        error(exc)
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
    choice = st.selectbox(label, ids + [OTHER], key=choice_key, format_func=lambda i: _(choices.get(i, i)))
    if choice == OTHER:
        typed = st.text_input(_("Model id or folder"), key=other_key, placeholder=placeholder)
        st.session_state[key] = typed.strip() or default
    else:
        st.session_state[key] = choice
    return st.session_state[key]


def model_picker(key: str, default: str = DEFAULT_ENCODER) -> str:
    """The encoder picker: built-in encoders, probes trained here, any Hugging Face id or folder."""
    from core.perturbed_masking.probe import read_card, scorecard, trained_probes

    probes = trained_probes()
    choices = {k: c.label for k, c in BUILTIN_ENCODERS.items()}
    for pid in probes:
        card = read_card(pid) or {}
        choices[pid] = _("{id} (masked LM trained here, {preset} preset, {score})").format(
            id=pid, preset=card.get("preset", {}).get("name", "?"), score=text(scorecard(card, short=True))
        )
    return picker(key, choices, default, _("Encoder"), _("bert-base-uncased or /path/to/model"))
