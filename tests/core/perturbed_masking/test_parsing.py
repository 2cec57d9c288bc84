import itertools

import numpy as np
import pytest

from core.perturbed_masking import parsing as P


def all_trees(n: int):
    for heads in itertools.product(range(n + 1), repeat=n):
        if any(h == d for d, h in enumerate(heads, start=1)):
            continue
        if P.is_tree(heads):
            yield list(heads)


TREES = {n: list(all_trees(n)) for n in range(1, 7)}


def test_tree_enumeration_counts_single_rooted_trees():
    # Single-rooted labelled trees on n words with an artificial root: n^(n-1) (Cayley).
    assert [len(TREES[n]) for n in range(1, 6)] == [1, 2, 9, 64, 625]


@pytest.mark.parametrize("n,seed", [(n, s) for n in range(2, 7) for s in range(3 if n < 6 else 2)])
def test_eisner_is_best_projective_tree_and_mst_best_tree(n, seed):
    rng = np.random.default_rng(100 * n + seed)
    scores = rng.normal(size=(n + 1, n + 1))
    scores[:, 0] = -np.inf
    np.fill_diagonal(scores, -np.inf)
    best_proj = max(P.tree_score(scores, t) for t in TREES[n] if P.is_projective(t))
    best_any = max(P.tree_score(scores, t) for t in TREES[n])
    e = P.eisner(scores)
    m = P.chu_liu_edmonds(scores)
    assert P.is_tree(e) and P.is_projective(e)
    assert P.is_tree(m)
    assert P.tree_score(scores, e) == pytest.approx(best_proj)
    assert P.tree_score(scores, m) == pytest.approx(best_any)


@pytest.mark.parametrize("decoder", ["eisner", "mst"])
def test_forced_root_is_respected(decoder):
    rng = np.random.default_rng(7)
    prefs = P.normalise_impact(rng.random((5, 5)))
    heads = P.DECODERS[decoder](P.arc_scores(prefs, root=3))
    assert heads[2] == 0 and heads.count(0) == 1 and P.is_tree(heads)


def test_normalisations():
    m = np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    row = P.normalise_impact(m, "row")
    assert np.allclose(row.sum(axis=1), 1.0) and np.allclose(np.diag(row), 0)
    assert row[0, 1] == pytest.approx(np.exp(1) / (np.exp(1) + np.exp(2)))
    paper = P.normalise_impact(m, "paper")
    e = np.exp(m - 3.0) * (1 - np.eye(3))
    # The released code divides column j by the sum of row j (numpy broadcasting).
    assert paper[0, 1] == pytest.approx(e[0, 1] / e[1].sum())
    assert paper[2, 0] == pytest.approx(e[2, 0] / e[0].sum())
    with pytest.raises(ValueError):
        P.normalise_impact(m, "nope")


def test_mart_hand_computed_splits():
    d = np.array([[0.0, 1.0, 5.0], [1.0, 0.0, 5.0], [5.0, 5.0, 0.0]])
    # blocks: k=1 -> 0 + 10/4 - 6/2 = -0.5 ; k=2 -> 2/4 + 0 - 10/2 = -4.5
    assert P.mart_split_costs(d, 0, 3, "blocks") == pytest.approx([-0.5, -4.5])
    assert P.bracketed(P.mart(d, "blocks"), ["a", "b", "c"]) == "((a b) c)"
    # paper (split word left out): k=1 -> 0 + 0 - 5/1 = -5 ; k=2 -> 2/4 = 0.5
    assert P.mart_split_costs(d, 0, 3, "paper") == pytest.approx([-5.0, 0.5])
    assert P.bracketed(P.mart(d, "paper"), ["a", "b", "c"]) == "(a (b c))"


def test_mart_tree_is_binary_and_covers_every_word():
    rng = np.random.default_rng(3)
    d = rng.random((9, 9))
    tree = P.mart(d)
    leaves = []

    def walk(node):
        if node.at is None:
            leaves.append(node.start)
        else:
            assert node.left.end == node.right.start == node.at
            walk(node.left)
            walk(node.right)

    walk(tree)
    assert leaves == list(range(9))
    assert len(P.spans(tree)) == 8  # a binary tree over 9 leaves has 8 internal nodes


def test_right_chain_and_uas():
    assert P.right_chain(4) == [2, 3, 4, 0]
    assert P.right_chain(4, root=2) == [2, 0, 4, 2]
    assert P.is_tree(P.right_chain(4, root=2))
    assert P.uas([2, 3, 4, 0], [2, 0, 4, 2]) == 50.0
    assert P.uas([2, 3, 4, 0], [2, 0, 4, 2], keep=[True, False, True, False]) == 100.0


def test_tree_checks():
    assert not P.is_tree([0, 0])
    assert not P.is_tree([2, 1, 0])
    assert P.is_projective([2, 0, 2])
    assert not P.is_projective([3, 4, 0, 3, 1])  # arc 1-5... crossing 3-4 pattern
    assert not P.is_projective([0, 4, 1, 1])  # arc 4->2 crosses arc 1->3


def test_brackets_escape_parentheses_and_conllu():
    tree = P.Split(0, 2, 1, P.Split(0, 1, None), P.Split(1, 2, None))
    assert P.bracketed(tree, ["(", "x"]) == "(-LRB- x)"
    lines = P.to_conllu(["a", "b"], [2, 0]).strip().splitlines()
    assert lines[0] == "# text = a b"
    assert lines[1].split("\t")[6] == "2" and lines[2].split("\t")[7] == "root"


@pytest.mark.parametrize("seed", range(40))
def test_mst_matches_brute_force_on_many_cyclic_cases(seed):
    # Scores that favour mutual arcs make greedy heads form cycles, exercising contraction.
    rng = np.random.default_rng(seed)
    n = 5
    scores = rng.normal(size=(n + 1, n + 1))
    scores[1:, 1:] += 2 * (scores[1:, 1:] + scores[1:, 1:].T > 0)
    scores[:, 0] = -np.inf
    np.fill_diagonal(scores, -np.inf)
    best_any = max(P.tree_score(scores, t) for t in TREES[n])
    heads = P.chu_liu_edmonds(scores)
    assert P.is_tree(heads)
    assert P.tree_score(scores, heads) == pytest.approx(best_any)


@pytest.mark.parametrize("seed", range(5))
def test_mst_agrees_with_networkx_on_long_sentences(seed):
    import networkx as nx

    rng = np.random.default_rng(seed)
    n = 25
    scores = P.arc_scores(P.normalise_impact(rng.random((n, n)) * 5))
    ours = P.chu_liu_edmonds(scores)
    g = nx.DiGraph()
    penalty = 1e3
    for h in range(n + 1):
        for d in range(1, n + 1):
            if h != d:
                g.add_edge(h, d, weight=scores[h, d] - (penalty if h == 0 else 0))
    tree = nx.maximum_spanning_arborescence(g)
    theirs = [0] * n
    for h, d in tree.edges():
        theirs[d - 1] = h
    assert P.tree_score(scores, ours) == pytest.approx(P.tree_score(scores, theirs))


def test_su_split_hand_computed():
    m = np.array([[0.0, 4.0, 1.0], [4.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    # k=1: within {1,2} = 1, across = (4+1+4+1)/4 = 2.5 -> -1.5 ; k=2: within {0,1} = 4, across = 1 -> 3
    assert P.su_split_scores(m, 0, 3) == pytest.approx([-1.5, 3.0])
    assert P.bracketed(P.su_tree(m), ["a", "b", "c"]) == "((a b) c)"
    assert P.su_split_scores(m, 0, 2) == pytest.approx([0.0 - 4.0])  # two single words: within 0
