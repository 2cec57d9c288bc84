"""Explanations as the page and the command line show them: a classifier, an input, several methods.

Glue between :mod:`core.classifiers` (what the model sees) and
:mod:`core.attribution` (the algorithms): pick the label (the prediction unless
the user names one), build the baseline, run each method, reduce to one score
per token or pixel, and serialise.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.attribution import ig as A
from core.attribution.classifiers import ImageClassifier, TextClassifier, TokenizedText
from core.lab.errors import BadArgument
from core.lab.messages import msg
from core.lab.progress import Progress


@dataclass
class Explanation:
    """One input explained by several methods."""

    model: str
    label: int
    label_name: str
    probabilities: np.ndarray
    results: dict[str, A.Attribution]
    scores: dict[str, np.ndarray]  # per token ([tokens]) or per pixel ([h, w])
    baseline: str
    output: str
    tokens: list[str] = field(default_factory=list)  # empty for images
    truncated: bool = False
    unknown: int = 0

    @property
    def probability(self) -> float:
        return float(self.probabilities[self.label])

    def summary(self, method: str) -> dict[str, Any]:
        """The command line's JSON for one method."""
        r = self.results[method]
        gap = r.relative_gap
        out: dict[str, Any] = {
            "model": self.model,
            "label": self.label_name,
            "probability": round(self.probability, 6),
            "method": method,
            "steps": r.steps,
            "completeness_gap": None if math.isinf(gap) else round(gap, 6),
            "f_input": round(r.f_input, 6),
            "f_baseline": round(r.f_baseline, 6),
            "sum_of_attributions": round(r.total, 6),
            "baseline": self.baseline,
        }
        if method == "ig":
            out["rule"] = r.rule
        scores = np.asarray(self.scores[method])
        if self.tokens:
            out["tokens"] = list(self.tokens)
            out["attributions"] = [round(float(v), 6) for v in scores]
        else:
            out["attributions"] = np.round(scores, 6).tolist()
        if method == "blog":
            out["note"] = "Su's variant: L2 norm per token, min-max normalised; it does not promise completeness"
        return out


def _methods(methods: Sequence[str]) -> list[str]:
    bad = [m for m in methods if m not in A.METHODS]
    if bad or not methods:
        raise BadArgument(
            "methods must be among {methods}, not {value}", methods=", ".join(A.METHODS), value=", ".join(bad) or "none"
        )
    return list(methods)


def _label(label: int | None, probabilities: np.ndarray, names: Sequence[str]) -> int:
    if label is None:
        return int(np.argmax(probabilities))
    if not 0 <= label < len(names):
        raise BadArgument("the label must be between 0 and {n_names}, not {label}", n_names=len(names) - 1, label=label)
    return int(label)


def _run(
    method: str, target: A.Target, x: np.ndarray, baseline: np.ndarray, steps: int, rule: str, baseline_name: str
) -> A.Attribution:
    blog_steps = A.BLOG_STEPS
    return A.attribute(method, target, x, baseline, blog_steps if method == "blog" else steps, rule, baseline_name)


def explain_text(
    clf: TextClassifier,
    text: str,
    methods: Sequence[str] = A.METHODS,
    steps: int = A.DEFAULT_STEPS,
    rule: str = "gauss-legendre",
    baseline: str = "zero",
    output: str = "probability",
    reduction: str = "sum",
    label: int | None = None,
    tok: TokenizedText | None = None,
) -> Explanation:
    """Explain one sentence with each method in ``methods``."""
    methods = _methods(methods)
    tok = tok or clf.tokenize(text)
    if not tok.tokens:
        raise BadArgument("The sentence has no tokens the model can read.")
    probs = clf.predict([text])[0]
    chosen = _label(label, probs, clf.labels)
    target = clf.target(chosen, output)
    base = clf.baseline(tok, baseline)
    results = {m: _run(m, target, tok.embeddings, base, steps, rule, baseline) for m in methods}
    scores = {m: A.token_scores(r, reduction, tok.content) for m, r in results.items()}
    return Explanation(
        clf.id,
        chosen,
        clf.label_name(chosen),
        probs,
        results,
        scores,
        baseline,
        output,
        list(tok.tokens),
        tok.truncated,
        tok.unknown,
    )


def explain_image(
    clf: ImageClassifier,
    image: np.ndarray,
    methods: Sequence[str] = A.METHODS,
    steps: int = A.DEFAULT_STEPS,
    rule: str = "gauss-legendre",
    baseline: str = "black",
    output: str = "probability",
    label: int | None = None,
) -> Explanation:
    """Explain one image [h, w] in [0, 1] with each method in ``methods``."""
    methods = _methods(methods)
    image = np.asarray(image, np.float32)
    probs = clf.predict(image[None])[0]
    chosen = _label(label, probs, clf.labels)
    target = clf.target(chosen, output)
    base = clf.baseline(image, baseline)
    results = {m: _run(m, target, image, base, steps, rule, baseline) for m in methods}
    scores = {m: A.pixel_scores(r) for m, r in results.items()}
    return Explanation(clf.id, chosen, clf.label_name(chosen), probs, results, scores, baseline, output)


def convergence(
    clf: TextClassifier | ImageClassifier,
    x: np.ndarray,
    baseline: np.ndarray,
    label: int,
    output: str = "probability",
    rules: Sequence[str] = ("gauss-legendre", "trapezoid", "left"),
    steps: Sequence[int] = (2, 4, 8, 16, 32, 64, 128),
) -> dict[str, list[tuple[int, float]]]:
    """Relative completeness gap per rule and step count (the page's convergence chart)."""
    target = clf.target(label, output)
    out: dict[str, list[tuple[int, float]]] = {}
    for rule in rules:
        out[rule] = [
            (m, A.integrated_gradients(target, x, baseline, m, rule).relative_gap)
            for m in steps
            if not (rule == "trapezoid" and m < 2)
        ]
    out["romberg (adaptive, points used)"] = A.converge(
        target, x, baseline, tolerance=0.0, max_points=max(steps) + 1, min_level=1
    )[1]
    return out


# Corpora ---------------------------------------------------------------------


def corpus_rows(
    clf: TextClassifier,
    texts: Sequence[str],
    method: str = "ig",
    steps: int = A.DEFAULT_STEPS,
    rule: str = "gauss-legendre",
    baseline: str = "zero",
    top: int = 3,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """One row per sentence: predicted label, probability, completeness gap and the top tokens for the label."""
    rows = []
    for i, text in enumerate(texts):
        try:
            e = explain_text(clf, text, [method], steps, rule, baseline)
        except ValueError as exc:
            rows.append(
                {
                    "#": i + 1,
                    "sentence": text,
                    "label": "",
                    "probability": None,
                    "gap": None,
                    "top tokens": f"skipped: {exc}",
                }
            )
            continue
        scores = e.scores[method]
        best = np.argsort(-scores)[:top]
        gap = e.results[method].relative_gap
        rows.append(
            {
                "#": i + 1,
                "sentence": text,
                "label": e.label_name,
                "probability": round(e.probability, 4),
                "gap": None if math.isinf(gap) else round(gap, 4),
                "top tokens": " ".join(e.tokens[j] for j in best),
            }
        )
        if progress:
            progress((i + 1) / len(texts), msg("Explained {i} of {n_texts} sentences", i=i + 1, n_texts=len(texts)))
    return rows


# Serialisation ------------------------------------------------------------------


def tokens_csv(e: Explanation) -> str:
    """token, then one column per method (the per-token scores shown)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["position", "token", *e.scores])
    for i, tok in enumerate(e.tokens):
        w.writerow([i + 1, tok, *(f"{float(e.scores[m][i]):.6g}" for m in e.scores)])
    return buf.getvalue()


def pixels_csv(e: Explanation, method: str) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows([[f"{float(v):.6g}" for v in row] for row in e.scores[method]])
    return buf.getvalue()


def to_json(e: Explanation) -> str:
    """Everything shown: the prediction and every method's summary."""
    obj = {
        "model": e.model,
        "label": e.label_name,
        "probabilities": [round(float(p), 6) for p in e.probabilities],
        "baseline": e.baseline,
        "output": e.output,
        "truncated": e.truncated,
        "unknown_tokens": e.unknown,
        "methods": {m: e.summary(m) for m in e.results},
    }
    return json.dumps(obj, ensure_ascii=False, indent=1)
