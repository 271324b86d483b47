"""report.html in a real browser: Debian's Chromium, headless, driven by Playwright.

The report is built from hand-made rows (no model, no store) that carry hostile strings: a title
with a script tag, a passage with an ``onerror`` image, a ``javascript:`` URL and question text
with markup. The page must render with no console or page errors, run none of it, show the
summary table and the plots, and turn no javascript: URL into a link. A screenshot is saved in
the test's tmp folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.evaluation.page import render_html
from assistant.evaluation.report import build_report, summarize
from assistant.evaluation.results import CaseResult
from tests.integration.servers import skip_or_fail

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]  # fmt: skip
HOSTILE_TITLE = "<script>window.__pwned=1</script>"
HOSTILE_TEXT = 'Zebras crossed <img src=x onerror="window.__pwned=2"> the border at dawn.'
JS_URL = "javascript:window.__pwned=3"

try:
    from playwright import sync_api
except ImportError as exc:  # pragma: no cover - the test extra installs playwright
    skip_or_fail(f"playwright is not installed ({exc}): pip install -e '.[test]'")
if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs Debian's chromium
    skip_or_fail(f"{CHROMIUM} is not installed (apt-get install chromium)")


def _passage(n: int, article_id: str, title: str, text: str, url: str | None) -> dict[str, Any]:
    return {"n": n, "chunk_id": f"{article_id}:0", "article_id": article_id, "title": title,
            "source": "Hostile <b>News</b>", "published": "2022-07-01", "url": url, "text": text,
            "start": 0, "end": len(text), "score": 1.0 / n}  # fmt: skip


def _rows() -> list[CaseResult]:
    hostile = _passage(1, JS_URL, HOSTILE_TITLE, HOSTILE_TEXT, JS_URL)
    good = _passage(
        2, "https://good.example/a", "Good article", "Mira Kovac won.", "https://good.example/a"
    )
    common: dict[str, Any] = {"answered": True, "mode": "extractive", "model": "extractive"}
    return [
        CaseResult(
            id="h1", index=0, question="Who <i>won</i>? <script>window.__pwned=4</script>",
            answers=["Mira Kovac"], choices=["Mira Kovac", "<b>Anna</b>"], evidence=[JS_URL],
            passages=[good, hostile], retrieved_articles=["https://good.example/a", JS_URL],
            evidence_rank=2, retrieval={**{f"hit@{k}": float(k >= 2) for k in range(1, 11)},
                                        "mrr@10": 0.5, "ndcg@10": 0.63},
            answer=f"{HOSTILE_TEXT} [1]", refused=False, choice="<b>Anna</b>",
            scores={"exact_match": 0.0, "f1": 0.2, "contained": 0.0, "mc_correct": 0.0},
            citations=[{"n": 1, "article_id": JS_URL, "title": HOSTILE_TITLE, "quote": HOSTILE_TEXT,
                        "supported": False}],
            citation_stats={"markers": 2, "valid": 1, "cited_sentences": 1,
                            "supported_sentences": 0, "has_citation": 1, "evidence_recall": 1.0},
            verdicts={"mc_correct": False, "refusal": "answered", "evidence_found": True},
            timings_ms={"retrieve": 12.0, "generate": 30.0, "verify": 1.0, "total": 45.0},
            **common,
        ),
        CaseResult(
            id="h2", index=1, question="What is unanswerable?", answerable=False,
            passages=[good], retrieved_articles=["https://good.example/a"],
            answer="The articles don't say.", refused=True,
            citation_stats={"markers": 0, "valid": 0, "cited_sentences": 0,
                            "supported_sentences": 0, "has_citation": 0, "evidence_recall": None},
            verdicts={"refusal": "correct_refusal"},
            timings_ms={"retrieve": 8.0, "generate": 0.0, "verify": 0.0, "total": 9.0},
            **common,
        ),
        CaseResult(id="h3", index=2, question="Failed one", error="LLMError: <server> down"),
    ]  # fmt: skip


def test_report_renders_safely_in_chromium(tmp_path: Path) -> None:
    rows = _rows()
    metrics = summarize(rows, settings={})
    baseline = {"metrics": {"retrieval": {"hit@1": 0.5, "hit@5": 0.5}},
                "curves": {"hit@k": {str(k): 0.5 for k in range(1, 11)}}}  # fmt: skip
    report = build_report(
        rows,
        metrics,
        settings={"collection": "news", "llm_api_key_set": False},
        options={"questions": "<q>.jsonl", "fail_below": {"retrieval.hit@1": 0.9}},
        questions=3,
        resumed=0,
        mode="extractive",
        baseline=baseline,
        baseline_path="old.json",
        gates=["retrieval.hit@1 = 0.0000 is below its floor 0.9"],
    )
    html = render_html(report, rows)
    page_file = tmp_path / "report.html"
    page_file.write_text(html, encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;window.__pwned=1" in html
    assert 'href="javascript:' not in html and "http" not in html.split("<body>")[0].replace(
        "http-equiv", ""
    )  # nothing loaded from the network

    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
                    if msg.type in ("error", "warning") else None)  # fmt: skip
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            requests: list[str] = []
            page.on("request", lambda req: requests.append(req.url))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")

            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert page.locator("#summary").is_visible()
            assert page.locator("#summary tbody tr").count() >= 10
            for plot in ("#metric-bars", "#hit-curve", "#latency-histogram"):
                assert page.locator(plot).is_visible(), plot
            assert page.locator('a[href^="javascript:"]').count() == 0
            assert page.locator("script").count() == 0 and page.locator("img").count() == 0
            assert page.locator("a[href='https://good.example/a']").count() >= 1
            text = page.inner_text("body")
            assert HOSTILE_TITLE in text and 'onerror="window.__pwned=2"' in text
            assert "Gate failed" in text and "Δ" in text and "evidence at rank 2" in text
            assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
