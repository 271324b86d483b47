"""The real chat in a real browser: `streamlit run ui/app.py` driven by Playwright on Chromium.

The test indexes the seed article and a hostile one (markup in its title and text) in a temporary
store with the real local embedder, starts the app on a free port against that store (extractive
mode: every LLM variable removed), asks the seed question, clicks citation [1] and checks the
source card with the highlighted quote; then asks about the hostile article and checks that its
markup shows as text and runs nothing. Screenshots go to the test's tmp folder; with
``ASSISTANT_UPDATE_SCREENSHOT=1`` the cited answer is also saved as
docs/screenshot-cited-answer.png (linked from the README).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEED
from tests.integration.servers import free_port, skip_or_fail, stop, wait_http

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
QUESTION = "What did Al-Shammari praise Iran for?"
HOSTILE_QUESTION = "What did the zebra smugglers sell at the market?"
HOSTILE = {
    "id": "hostile-1",
    "title": "Evil <script>window.__pwned=1</script> headline",
    "text": (
        'Zebra smugglers <img src=x onerror="window.__pwned=2"> crossed the border at dawn. '
        "The zebra smugglers sold striped zebras at the market in the old town.\n\n"
        "<script>window.__pwned=3</script> Police said the zebra market would be closed."
    ),
    "source": "Hostile News",
    "published": "2022-07-01",
    "url": "https://hostile.example/zebras",
}
SCREENSHOT = ROOT / "docs" / "screenshot-cited-answer.png"
LLM_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ASSISTANT_LLM_API_KEY",
    "ASSISTANT_LLM_BASE_URL",
    "ASSISTANT_LLM_MODEL",
    "ASSISTANT_CHROMA_URL",
)

try:
    from playwright import sync_api
except ImportError as exc:  # pragma: no cover - the test extra installs playwright
    skip_or_fail(f"playwright is not installed ({exc}): pip install -e '.[test]'")
if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs Debian's chromium
    skip_or_fail(f"{CHROMIUM} is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the seed and the hostile article, embedded by the real local model."""
    from assistant.config import Settings
    from assistant.service import Assistant

    folder = tmp_path_factory.mktemp("browser")
    corpus = folder / "hostile.jsonl"
    corpus.write_text(json.dumps(HOSTILE) + "\n", encoding="utf-8")
    settings = Settings(
        store_dir=folder / "store", collection="news", embeddings="local", _env_file=None
    )
    report = Assistant(settings, chat_model=None).ingest([str(SEED), str(corpus)])
    assert report.new == 2 and not report.failed, report
    return settings.store_dir


@pytest.fixture(scope="module")
def app_url(store_dir: Path) -> Iterator[str]:
    """`streamlit run ui/app.py` on a free port against the store; stopped afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    for name in LLM_VARS:
        env.pop(name, None)
    env.update(
        ASSISTANT_STORE_DIR=str(store_dir),
        ASSISTANT_COLLECTION="news",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
    )
    log_path = store_dir.parent / "streamlit.log"
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "ui" / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=store_dir.parent,  # no developer .env is picked up
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/_stcore/health", timeout=90, proc=proc, log=log_path, name="streamlit")
        yield url
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        try:
            yield b
        finally:
            b.close()


def _ask(page: object, question: str, answers_before: int) -> object:
    """Type a question, press Enter and wait for the finished answer.

    Returns the locator of the assistant's chat message holding that answer.
    """
    box = page.get_by_test_id("stChatInputTextArea")  # type: ignore[attr-defined]
    asked = page.get_by_test_id("stChatMessage").filter(  # type: ignore[attr-defined]
        has=page.get_by_test_id("stChatMessageAvatarUser")  # type: ignore[attr-defined]
    )
    for _attempt in range(3):  # a keystroke sent before the websocket is up is lost: retry
        box.fill(question)
        box.press("Enter")
        try:
            sync_api.expect(asked).to_have_count(answers_before + 1, timeout=15_000)
            break
        except AssertionError:
            continue
    done = page.get_by_test_id("stChatMessage").filter(  # type: ignore[attr-defined]
        has=page.locator(".qa-answer[data-mode]")  # type: ignore[attr-defined]
    )
    sync_api.expect(done).to_have_count(answers_before + 1, timeout=180_000)
    # the run is over when the stop button has turned back into the send button
    sync_api.expect(page.get_by_test_id("stChatInputStopButton")).to_have_count(  # type: ignore[attr-defined]
        0, timeout=60_000
    )
    return done.nth(answers_before)


def test_cited_answer_in_a_real_browser(app_url: str, browser: object, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})  # type: ignore[attr-defined]
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url, wait_until="domcontentloaded")
    sync_api.expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=60_000)
    sync_api.expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=60_000)

    # --- the seed question: a cited, highlighted source -------------------------------------
    message = _ask(page, QUESTION, 0)
    answer = message.locator(".qa-answer")
    assert answer.get_attribute("data-mode") == "extractive"
    sync_api.expect(answer).to_contain_text("Al-Shammari praised Iran")
    # the answer with its first source card, for the README
    page.set_viewport_size({"width": 1280, "height": 1800})  # the whole exchange, no scrolling
    page.wait_for_timeout(500)
    shot = tmp_path / "cited-answer.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("ASSISTANT_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)

    page.set_viewport_size({"width": 1280, "height": 700})  # card [1] now starts off screen
    page.wait_for_timeout(300)
    marker = answer.locator("a.qa-cite").first
    sync_api.expect(marker).to_have_text("[1]")
    target = marker.get_attribute("href")
    assert target and target.startswith("#src-") and target.endswith("-1")
    marker.click()
    card = page.locator(f"[id='{target[1:]}']")
    sync_api.expect(card).to_be_visible()
    sync_api.expect(card).to_be_in_viewport()
    quote = card.locator("mark")
    sync_api.expect(quote.first).to_contain_text("praised Iran for supporting Iraq")
    sync_api.expect(card).to_contain_text("Iran Urges Closer Military Ties with Iraq")
    assert page.evaluate("() => location.hash") == target
    page.screenshot(path=str(tmp_path / "after-clicking-1.png"))

    # --- the hostile article: markup shows as text and runs nothing --------------------------
    hostile = _ask(page, HOSTILE_QUESTION, 1)
    sync_api.expect(hostile.locator(".qa-answer")).to_contain_text("zebra")
    title = hostile.locator(".qa-card-head", has_text="<script>window.__pwned=1</script>")
    sync_api.expect(title.first).to_be_visible()
    passage = hostile.locator(".qa-passage", has_text='<img src=x onerror="window.__pwned=2">')
    sync_api.expect(passage.first).to_be_visible()
    assert page.locator(".qa-card img, .qa-card script, .qa-answer img").count() == 0
    page.wait_for_timeout(500)  # an injected onerror would have fired by now
    assert page.evaluate("() => window.__pwned") is None
    assert not dialogs
    hostile.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(tmp_path / "hostile-article.png"))
    assert not [e for e in errors if "__pwned" in e], errors
    page.close()
