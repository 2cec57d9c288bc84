import numpy as np

from core.perturbed_masking import figures as figs
from core.perturbed_masking.parsing import mart


def test_heatmap_keeps_repeated_words_apart():
    words = ["the", "dog", "saw", "the", "dog"]
    fig = figs.impact_heatmap(words, np.arange(25.0).reshape(5, 5), layer=3, distance="euclidean")
    assert list(fig.layout.xaxis.ticktext) == ["1 the", "2 dog", "3 saw", "4 the", "5 dog"]
    assert list(fig.layout.yaxis.tickvals) == [0, 1, 2, 3, 4]
    assert np.asarray(fig.data[0].z)[1, 3] == 8.0  # row i = 2nd word, column j = 4th word
    assert "layer 3" in fig.layout.title.text


def test_arcs_colour_agreement_with_the_reference():
    words = ["a", "b", "c", "d"]
    fig = figs.dependency_arcs(words, heads=[2, 0, 2, 3], reference=[2, 0, 4, 2])
    names = {t.name: t for t in fig.data if t.name}
    assert set(names) == {"agrees with spaCy", "differs from spaCy", "spaCy arc the probe missed"}
    # Arcs are separated by None: count segments per group.
    assert list(names["agrees with spaCy"].x).count(None) == 2  # a<-b and the root arc of b
    assert list(names["differs from spaCy"].x).count(None) == 2  # c<-b, d<-c
    assert list(names["spaCy arc the probe missed"].x).count(None) == 2
    text = next(t for t in fig.data if t.mode == "text" and list(t.text) == words)
    assert list(text.x) == figs.word_positions(words)


def test_word_positions_never_overlap():
    words = ["internationalisation", "a", "b", "extraordinarily"]
    xs = figs.word_positions(words)
    for i in range(len(words) - 1):
        assert xs[i + 1] - xs[i] >= (len(words[i]) + len(words[i + 1])) * 0.55 / 2


def test_constituency_tree_draws_one_fork_per_split():
    rng = np.random.default_rng(0)
    tree = mart(rng.random((6, 6)))
    fig = figs.constituency_tree(tree, list("abcdef"))
    assert list(fig.data[0].x).count(None) == 5  # five binary splits over six words


def test_uas_by_layer_chart():
    fig = figs.uas_by_layer({"probe": [10.0, 20.0, None]}, right_chain=30.0)
    assert list(fig.data[0].x) == [0, 1, 2]
    assert fig.layout.shapes[0].y0 == 30.0
