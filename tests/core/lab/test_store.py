import subprocess
import sys
import textwrap

from core.lab import store


def test_save_list_get_delete():
    a = store.save(
        "perturbed-masking", "corpus.txt", {"model": "m"}, [("one", b"\x01"), ("two", b"\x02")], {"uas": [1.0]}
    )
    saved = store.get(a)
    assert saved.name == "corpus.txt" and saved.n_items == 2 and saved.params == {"model": "m"}
    assert store.items(a) == [("one", b"\x01"), ("two", b"\x02")]
    assert a in [s.id for s in store.list_analyses("perturbed-masking")]
    assert store.delete(a) and store.get(a) is None and store.items(a) == []
    assert not store.delete(a)


def test_a_killed_process_keeps_what_it_committed(lab_home):
    code = textwrap.dedent(
        """
        import os
        from core.lab import store
        print(store.save("perturbed-masking", "killed.txt", {}, [("s", b"x")]), flush=True)
        os.kill(os.getpid(), 9)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"KEXUE_LAB_HOME": str(lab_home), "PYTHONPATH": "."},
    )
    assert proc.returncode == -9
    saved_id = proc.stdout.strip()
    assert store.get(saved_id).name == "killed.txt"
    assert store.items(saved_id) == [("s", b"x")]
