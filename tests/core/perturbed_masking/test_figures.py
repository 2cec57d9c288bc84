import numpy as np

from core.perturbed_masking import figures as figs
from core.perturbed_masking.parsing import mart

HEAT = {"title": "第 3 层", "x": "j", "y": "i", "colorbar": "欧氏距离", "hover": "{masked} 对 {read} 的影响：{value}"}
ARCS = {
    "title": "依存句法树",
    "agree": "一致",
    "differ": "不一致",
    "arc": "弧",
    "missed": "漏掉",
    "root": "根",
    "hover": "第 {i} 个词：{word}<br>中心词：{head}",
}
UAS = {"title": "哪一层", "x": "层", "y": "UAS", "right_chain": "右链基线 {uas}"}


def test_heatmap_keeps_repeated_words_apart():
    words = ["the", "dog", "saw", "the", "dog"]
    fig = figs.impact_heatmap(words, np.arange(25.0).reshape(5, 5), HEAT)
    assert list(fig.layout.xaxis.ticktext) == ["1 the", "2 dog", "3 saw", "4 the", "5 dog"]
    assert list(fig.layout.yaxis.tickvals) == [0, 1, 2, 3, 4]
    assert np.asarray(fig.data[0].z)[1, 3] == 8.0  # row i = 2nd word, column j = 4th word
    # The words come from the page, in its word order; the builder fills in plotly's placeholders.
    assert fig.layout.title.text == "第 3 层" and fig.data[0].colorbar.title.text == "欧氏距离"
    assert fig.data[0].hovertemplate == (
        "<b>%{customdata[0]}</b> 对 <b>%{customdata[1]}</b> 的影响：%{z:.3f}<extra></extra>"
    )


def test_arcs_colour_agreement_with_the_reference():
    words = ["a", "b", "c", "d"]
    fig = figs.dependency_arcs(words, [2, 0, 2, 3], [2, 0, 4, 2], ARCS)
    names = {t.name: t for t in fig.data if t.name}
    assert set(names) == {"一致", "不一致", "漏掉"}
    # Arcs are separated by None: count segments per group.
    assert list(names["一致"].x).count(None) == 2  # a<-b and the root arc of b
    assert list(names["不一致"].x).count(None) == 2  # c<-b, d<-c
    assert list(names["漏掉"].x).count(None) == 2
    assert any(list(t.text or []) == ["根"] for t in fig.data) and fig.layout.title.text == "依存句法树"
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
    fig = figs.constituency_tree(tree, list("abcdef"), "成分句法树")
    assert list(fig.data[0].x).count(None) == 5  # five binary splits over six words
    assert fig.layout.title.text == "成分句法树"


def test_uas_by_layer_chart():
    fig = figs.uas_by_layer({"探针": [10.0, 20.0, None]}, 30.0, UAS)
    assert list(fig.data[0].x) == [0, 1, 2] and fig.data[0].name == "探针"
    assert fig.layout.shapes[0].y0 == 30.0
    assert fig.layout.annotations[0].text == "右链基线 30.0"
