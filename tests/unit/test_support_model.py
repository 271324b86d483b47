"""The support check with the real bundled model, as the answerer runs it (full precision).

Each contradiction below is one edit of a sentence of the passage, the kind of error
benchmarks/bench_support.py scripts; each light rewording must stay supported.
"""

from __future__ import annotations

from datetime import date

import pytest

from assistant.answering.citations import VerifiedAnswer, verify
from assistant.config import Settings
from assistant.models import Passage
from assistant.search.embeddings import Embedder, get_embedder
from tests.conftest import SEED

pytestmark = pytest.mark.slow

TEXT = (
    "ABUJA (Daily Ledger) – Nigeria's central bank raised its benchmark interest rate to 16.5 "
    "percent on Tuesday, its third increase this year. Governor Godwin Emefiele said inflation "
    "had reached 19.6 percent in July, the highest level since 2005. The bank did not change the "
    "cash reserve ratio, which stays at 32.5 percent. Borrowers who cannot repay their loans, or "
    "choose not to, face higher penalties from October. Analysts at a Lagos brokerage had "
    "expected a smaller rise."
)
NEWS = Passage(
    n=1, chunk_id="c1", article_id="a1", title="Nigeria raises rates again", source="Daily Ledger",
    published=date(2022, 9, 27), text=TEXT, start=0, end=len(TEXT),
)  # fmt: skip
_SEED_TEXT = SEED.read_text(encoding="utf-8")
_CUT = _SEED_TEXT.index("In a telephone conversation")
_END = _SEED_TEXT.index("Earlier in June")
SEED_PASSAGE = Passage(
    n=2, chunk_id="s1", article_id="seed", title="Iran Urges Closer Military Ties with Iraq",
    source="Tasnim", text=_SEED_TEXT[_CUT:_END].strip(), start=_CUT,
    end=_CUT + len(_SEED_TEXT[_CUT:_END].strip()),
)  # fmt: skip


@pytest.fixture(scope="module")
def model() -> Embedder:
    return get_embedder(Settings(_env_file=None, embed_backend="onnx"))


def _check(claim: str, model: Embedder, n: int = 1) -> VerifiedAnswer:
    threshold = Settings(_env_file=None).support_threshold
    return verify(f"{claim} [{n}].", [NEWS, SEED_PASSAGE], model, threshold)


@pytest.mark.parametrize(
    "claim",
    [
        # number swaps, also to a number the next sentence holds
        "Nigeria's central bank raised its benchmark interest rate to 18.5 percent on Tuesday",
        "Nigeria's central bank raised its benchmark interest rate to 19.6 percent on Tuesday, "
        "its third increase this year",
        # date swaps: a month, a weekday
        "Governor Godwin Emefiele said inflation had reached 19.6 percent in June, the highest "
        "level since 2005",
        "Borrowers who cannot repay their loans, or choose not to, face higher penalties from "
        "March",
        # negation flips, also next to a negation that stays
        "The bank changed the cash reserve ratio, which stays at 32.5 percent",
        "Borrowers who can repay their loans, or choose not to, face higher penalties from October",
        # name swap
        "Governor Godwin Okonjo said inflation had reached 19.6 percent in July, the highest "
        "level since 2005",
    ],
)
def test_contradiction_is_flagged(claim: str, model: Embedder) -> None:
    result = _check(claim, model)
    assert result.unsupported_sentences == [f"{claim}."], result.citations[0].support
    assert not result.citations[0].supported
    assert [s.supported for s in result.sentences] == [False]


@pytest.mark.parametrize(
    ("claim", "n"),
    [
        ("On Tuesday, Nigeria's central bank raised its benchmark rate to 16.5 percent", 1),
        ("Inflation had reached 19.6 percent in July, the highest level since 2005", 1),
        ("The bank didn't change the cash reserve ratio", 1),
        ("According to the Daily Ledger, Emefiele said inflation reached 19.6 percent in July", 1),
        ("General Hatami congratulated Al-Shammari on taking the post", 2),
        ("Al-Shammari praised Iran for backing Iraq in the fight against terrorist groups", 2),
    ],
)
def test_light_rewording_stays_supported(claim: str, n: int, model: Embedder) -> None:
    result = _check(claim, model, n)
    assert not result.unsupported_sentences, result.citations[0].support
    citation = result.citations[0]
    assert citation.supported and citation.n == n
    text = _SEED_TEXT if n == 2 else TEXT
    assert text[citation.start : citation.end] == citation.quote
