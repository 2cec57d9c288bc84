import threading

import numpy as np
import pytest
import torch

from core.perturbed_masking import impact as pm
from core.perturbed_masking.parsing import is_tree


def naive_impact(encoder, pieces, distance="euclidean"):
    """One forward per masked input, straight through transformers' own forward."""
    n = len(pieces.spans)
    base = list(pieces.input_ids)
    first = [s for s, _ in pieces.spans]

    def states(masked):
        ids = list(base)
        for w in masked:
            s, e = pieces.spans[w]
            ids[s:e] = [encoder.mask_id] * (e - s)
        with torch.no_grad():
            out = encoder.model(input_ids=torch.tensor([ids]), output_hidden_states=True)
        return torch.stack(out.hidden_states)[:, 0].numpy()  # [layers, tokens, hidden]

    layers = encoder.n_layers + 1
    m = np.zeros((layers, n, n))
    for i in range(n):
        single = states([i])[:, first[i]]
        for j in range(n):
            if i != j:
                pair = states([i, j])[:, first[i]]
                m[:, i, j] = pm.pair_distance(single, pair, distance)
    return m


@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
def test_batched_impact_equals_naive(tiny_encoder, distance):
    words = "the old man lived by the seas quickly .".split()  # "seas" and "quickly" are two pieces
    pieces = pm.word_pieces(tiny_encoder, words)
    assert any(e - s > 1 for s, e in pieces.spans)
    got = pm.impact_matrices(tiny_encoder, pieces, distance=distance, tokens_per_batch=50)
    assert got.n_sequences == 9 + 9 * 8 // 2
    np.testing.assert_allclose(got.matrices, naive_impact(tiny_encoder, pieces, distance), atol=1e-5)


def test_hidden_states_match_transformers_and_stop_early(tiny_encoder):
    pieces = pm.word_pieces(tiny_encoder, "the dog sat".split())
    ids = np.array([pieces.input_ids] * 3)
    with torch.no_grad():
        ref = torch.stack(tiny_encoder.model(input_ids=torch.tensor(ids), output_hidden_states=True).hidden_states)
    np.testing.assert_allclose(pm.hidden_states(tiny_encoder, ids), ref.numpy(), atol=1e-5)
    assert pm.hidden_states(tiny_encoder, ids, upto_layer=1).shape[0] == 2
    assert pm.impact_matrices(tiny_encoder, pieces, upto_layer=1).matrices.shape == (2, 3, 3)


def test_masked_inputs_are_unique_and_whole_word(tiny_encoder):
    pieces = pm.word_pieces(tiny_encoder, "the seas ran".split())
    inputs, masked = pm.masked_inputs(pieces, tiny_encoder.mask_id)
    assert inputs.shape[0] == 3 + 3
    assert len({tuple(r) for r in inputs}) == inputs.shape[0]
    s, e = pieces.spans[1]
    row = next(r for r, (i, j) in enumerate(masked) if (i, j) == (1, 1))
    assert (inputs[row, s:e] == tiny_encoder.mask_id).all()
    assert (inputs[row, :s] == np.array(pieces.input_ids[:s])).all()


def test_word_pieces_truncates_and_counts(tiny_encoder):
    words = ["the"] * 100
    pieces = pm.word_pieces(tiny_encoder, words, max_tokens=20)
    assert len(pieces.words) == 18 and pieces.dropped_words == 82
    assert len(pieces.input_ids) == 20
    capped = pm.word_pieces(tiny_encoder, words, max_words=5)
    assert len(capped.words) == 5
    unknown = pm.word_pieces(tiny_encoder, ["zzzq", "the"])
    assert unknown.unknown_words == 1


def test_analysis_decodes_trees_and_round_trips(tiny_encoder):
    a = pm.analyse(tiny_encoder, "The old man caught a huge fish .")
    assert a.words == ("The", "old", "man", "caught", "a", "huge", "fish", ".")
    assert a.reference is not None and is_tree(a.reference.heads)
    assert a.reference.punct[-1]
    report = pm.decode(a, 2, "eisner")
    assert is_tree(report.heads) and 0 <= report.uas <= 100
    forced = pm.decode(a, 2, "mst", root="reference")
    assert forced.heads.index(0) == a.reference.heads.index(0)
    back = pm.from_bytes(pm.to_bytes(a))
    np.testing.assert_array_equal(back.impact.matrices, a.impact.matrices)
    assert back.reference == a.reference and back.text == a.text
    per_layer = pm.uas_by_layer(a)
    assert len(per_layer) == 3
    corpus, chain = pm.corpus_uas_by_layer([a, a])
    assert corpus == pytest.approx(per_layer)  # the same sentence twice: same word-weighted score
    assert chain == report.right_chain_uas


def test_concurrent_sessions_get_the_same_results(tiny_encoder):
    sentences = [
        "The dog sat on the mat .",
        "A big cat ran away quickly .",
        "She saw the red house .",
        "The old man lived by the sea .",
        "He caught a huge fish yesterday .",
    ]
    alone = [pm.analyse(tiny_encoder, s, with_reference=False).impact.matrices for s in sentences]
    together: dict[int, np.ndarray] = {}
    barrier = threading.Barrier(len(sentences))

    def run(i):
        barrier.wait()
        for _ in range(3):
            together[i] = pm.analyse(tiny_encoder, sentences[i], with_reference=False).impact.matrices

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sentences))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, m in enumerate(alone):
        np.testing.assert_allclose(together[i], m, atol=1e-6)


def test_bad_layer_and_distance(tiny_encoder):
    pieces = pm.word_pieces(tiny_encoder, "the dog".split())
    with pytest.raises(ValueError):
        pm.impact_matrices(tiny_encoder, pieces, distance="manhattan")
    with pytest.raises(ValueError):
        pm.impact_matrices(tiny_encoder, pieces, upto_layer=9)


def test_matrix_csv_labels_rows_and_columns():
    import csv
    import io

    rows = list(csv.reader(io.StringIO(pm.matrix_csv(["the", "the"], np.array([[0.0, 1.5], [2.25, 0.0]])))))
    assert rows[0] == ["", "1 the", "2 the"]
    assert rows[2] == ["2 the", "2.250000", "0.000000"]


def test_corpus_table_decodes_each_sentence_once(tiny_encoder, monkeypatch):
    import json

    analyses = [pm.analyse(tiny_encoder, t) for t in ("The dog sat on the mat .", "She ran .", "dog")]
    calls = []
    real = pm.decode
    monkeypatch.setattr(pm, "decode", lambda *a, **k: calls.append(a[0].text) or real(*a, **k))
    rows, reports = pm.corpus_table(analyses, 1, "eisner", "paper", "auto")
    assert calls == ["The dog sat on the mat .", "She ran ."]  # once each; one word has no tree
    assert [r["words"] for r in rows] == [7, 3, 1] and rows[2]["UAS"] is None and reports[2] is None
    assert rows[0]["UAS"] == reports[0].uas
    lines = [json.loads(line) for line in pm.parses_jsonl(analyses, reports).splitlines()]
    assert [line["text"] for line in lines] == ["The dog sat on the mat .", "She ran ."]
    assert lines[0]["heads"] == list(reports[0].heads) and calls == ["The dog sat on the mat .", "She ran ."]
