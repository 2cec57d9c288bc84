"""The words of the tree figures (impact matrix, dependency arcs, constituency trees, UAS per layer), shared by
the English and the Chinese half of the perturbed-masking page."""

from __future__ import annotations

from ui.i18n import N_, _

DISTANCE_NAMES = {"euclidean": N_("euclidean"), "cosine": N_("cosine")}


def heat_labels(layer: int, distance: str) -> dict[str, str]:
    return {
        "title": _("Impact matrix, layer {layer}: f(i, j) = effect of masking word j on word i").format(layer=layer),
        "x": _("j (masked too)"),
        "y": _("i (read)"),
        "colorbar": _(DISTANCE_NAMES.get(distance, distance)),
        "hover": _("impact of {masked} on {read}: {value}"),
    }


def arc_labels(title: str) -> dict[str, str]:
    return {
        "title": title,
        "agree": _("agrees with spaCy"),
        "differ": _("differs from spaCy"),
        "arc": _("probe arc"),
        "missed": _("spaCy arc the probe missed"),
        "root": _("ROOT"),
        "hover": _("word {i}: {word}<br>head: {head}"),
    }


def constituency_title() -> str:
    return _("Constituency tree (MART, the paper's)")


def uas_labels(title: str | None = None) -> dict[str, str]:
    return {
        "title": title or _("Which layer knows syntax?"),
        "x": _("layer (0 = embeddings)"),
        "y": _("UAS vs spaCy (%), punctuation excluded"),
        "right_chain": _("right-chain {uas}"),
    }
