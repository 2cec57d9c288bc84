import pytest


@pytest.fixture(scope="session")
def tiny_pinyin(session_home):
    """The three tiny models under the page's names, and the default scorecard (from 12 clauses)."""
    from tests.helpers import save_tiny_pinyin_models

    save_tiny_pinyin_models()
    from core.bidirectional.decoding import Decoders

    return Decoders()
