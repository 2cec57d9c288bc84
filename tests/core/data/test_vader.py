from core.data import vader


def test_snippets_are_read_from_the_cached_files(tmp_path, monkeypatch):
    # A home of its own: the fake files must not stand in for the real data in later tests of the session.
    monkeypatch.setenv("KEXUE_LAB_HOME", str(tmp_path))
    folder = tmp_path / "data" / f"vader-{vader.VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    for name in vader.COLLECTIONS.values():
        (folder / name).write_text("1\t0.5\tA fine day.\r\n2\tbad\tskipped\r\n3\t-2.25\tTabs\tinside.\r\n")
    assert vader.snippets("nyt") == [(0.5, "A fine day."), (-2.25, "Tabs\tinside.")]
