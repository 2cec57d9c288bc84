"""English snippets rated for sentiment (Hutto & Gilbert, ICWSM 2014).

They ship only inside vaderSentiment's source distribution on PyPI, so the
first use fetches that tarball with ``pip download`` (a package registry, not a
data hub) into ``KEXUE_LAB_HOME`` and keeps the ground-truth files. Lines are
``id<TAB>score<TAB>text``, scores from -4 to +4.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.data import DataError
from core.lab.artifacts import atomic_write
from core.lab.messages import msg
from core.lab.paths import lab_home

VERSION = "3.3.2"
COLLECTIONS = {
    "movie": "movieReviewSnippets_GroundTruth.txt",
    "nyt": "nytEditorialSnippets_GroundTruth.txt",
    "amazon": "amazonReviewSnippets_GroundTruth.txt",
    "tweets": "tweets_GroundTruth.txt",
}


def _folder() -> Path:
    return lab_home() / "data" / f"vader-{VERSION}"


def fetch(progress: Callable[[float, str], None] | None = None) -> Path:
    """The folder of ground-truth files, fetching them once."""
    folder = _folder()
    if all((folder / name).exists() for name in COLLECTIONS.values()):
        return folder
    if progress:
        progress(0.1, msg("Fetching vaderSentiment {version}'s source distribution from PyPI (once)", version=VERSION))
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-q",
            f"vaderSentiment=={VERSION}",
            "-d",
            tmp,
        ]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=180)
        except (subprocess.SubprocessError, OSError) as exc:
            raise DataError(
                "Could not fetch vaderSentiment {version} from PyPI: {exc}", version=VERSION, exc=exc
            ) from exc
        sdist = next(Path(tmp).glob("vaderSentiment-*.tar.gz"))
        with tarfile.open(sdist) as outer:
            inner_member = next(m for m in outer.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz"))
            inner_bytes = outer.extractfile(inner_member).read()
        with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
            for member in inner.getmembers():
                name = Path(member.name).name
                if name in COLLECTIONS.values():
                    data = inner.extractfile(member).read()
                    atomic_write(folder / name, lambda p, d=data: p.write_bytes(d))
    return folder


def snippets(collection: str = "nyt") -> list[tuple[float, str]]:
    """(human rating, text) pairs of one collection."""
    if collection not in COLLECTIONS:
        raise DataError(
            "unknown collection {collection!r}; choose one of {collections}",
            collection=collection,
            collections=", ".join(COLLECTIONS),
        )
    path = fetch() / COLLECTIONS[collection]
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3:
            try:
                rows.append((float(parts[1]), "\t".join(parts[2:]).strip()))
            except ValueError:
                continue
    return rows
