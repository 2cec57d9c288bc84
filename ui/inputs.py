"""The shared sentence input: a form with a text box and a file upload."""

from __future__ import annotations

import streamlit as st

from core.data.images import MAX_IMAGE_BYTES
from core.lab.textinput import FILE_TYPES, MAX_FILE_BYTES, MAX_SENTENCES, InputError, Sentences, from_text, from_upload
from ui.i18n import _, error


def sentence_form(prefix: str, placeholder: str, help_text: str = "") -> Sentences | None:
    """Draw the form; on submit return the validated sentences, else ``None``.

    Errors are shown in the page with a sentence saying what to fix. The text
    box's value lives in ``st.session_state[prefix + ".text"]``.
    """
    with st.form(f"{prefix}.form", border=True):
        st.text_area(
            _("Sentence (one per line)"),
            key=f"{prefix}.text",
            height=100,
            placeholder=placeholder,
            help=help_text or _("Type one sentence, or several (one per line, at most {n}).").format(n=MAX_SENTENCES),
        )
        upload = st.file_uploader(
            _("...or upload sentences"),
            type=list(FILE_TYPES),
            max_upload_size=MAX_FILE_BYTES // 2**20,
            key=f"{prefix}.upload",
            help=_(
                '.txt: one sentence per line. .csv: pick the text column. .jsonl: objects with a "text" field. '
                "Up to {mb} MB per file."
            ).format(mb=MAX_FILE_BYTES // 2**20),
        )
        column = st.text_input(_("CSV text column (empty: guess)"), key=f"{prefix}.column")
        submitted = st.form_submit_button(_("Analyse"), type="primary")
    if not submitted:
        return None
    try:
        if upload is not None:
            return from_upload(upload.name, upload.getvalue(), column.strip() or None)
        return from_text(st.session_state.get(f"{prefix}.text", ""))
    except InputError as exc:
        error(exc)
        return None


IMAGE_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]


def image_upload(label: str, key: str):  # noqa: ANN201 - Streamlit's UploadedFile or None
    """An image uploader with the lab's one size limit (stated in the widget)."""
    mb = MAX_IMAGE_BYTES // 2**20
    return st.file_uploader(
        label,
        type=IMAGE_TYPES,
        max_upload_size=mb,
        key=key,
        help=_("PNG, JPEG, GIF, BMP or WebP, up to {mb} MB.").format(mb=mb),
    )
