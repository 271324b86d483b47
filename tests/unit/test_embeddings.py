"""The bundled model on each runtime, and OpenAI embeddings against a local HTTP stand-in."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.search.embeddings import LocalEmbedder, OpenAIEmbedder, get_embedder

TEXTS = [
    "For his part, Al-Shammari praised Iran for supporting Iraq in the fight against terrorist groups.",
    "Temperatures reached 41 degrees Celsius on Saturday, the hottest June day on record.",
    "word " * 600,  # longer than the model's 256 wordpieces: truncated, not an error
]


@pytest.mark.slow
def test_local_runtimes_agree(tmp_path: Path) -> None:
    ref = LocalEmbedder("torch").embed_documents(TEXTS)
    assert ref.shape == (3, 384)
    assert np.allclose(np.linalg.norm(ref, axis=1), 1.0, atol=1e-5)
    onnx = LocalEmbedder("onnx", cache_dir=tmp_path)
    int8 = LocalEmbedder("onnx-int8", cache_dir=tmp_path)
    assert onnx.name == "all-MiniLM-L6-v2" and int8.name == "all-MiniLM-L6-v2-int8"
    assert np.all((onnx.embed_documents(TEXTS) * ref).sum(axis=1) > 0.9999)
    assert np.all((int8.embed_documents(TEXTS) * ref).sum(axis=1) > 0.97)
    # semantic sanity: the question is closer to its answer than to the unrelated sentence
    q = onnx.embed_query("What did Al-Shammari praise Iran for?")
    assert float(q @ ref[0]) > float(q @ ref[1]) + 0.2


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_vectors_do_not_depend_on_batch_or_workers(tmp_path: Path, backend: str) -> None:
    parallel = LocalEmbedder(backend, cache_dir=tmp_path)  # one worker per CPU
    serial = LocalEmbedder(backend, threads=1, cache_dir=tmp_path)
    together = parallel.embed_documents(TEXTS * 3)
    alone = np.stack([serial.embed_query(t) for t in TEXTS])
    assert together.shape == (9, 384)
    for k in range(3):  # same order as asked, each text's own vector
        assert np.allclose(together[3 * k : 3 * k + 3], alone, atol=1e-5)


def test_local_embedder_is_shared_per_process() -> None:
    s = Settings(_env_file=None)
    assert get_embedder(s) is get_embedder(s.model_copy())


class _FakeOpenAI(BaseHTTPRequestHandler):
    calls: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _FakeOpenAI.calls.append({"auth": self.headers.get("Authorization"), **body})
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, 0.0]}
            for i, t in enumerate(body["input"])
        ]
        payload = json.dumps(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def test_openai_embeddings_over_http() -> None:
    server = HTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        s = Settings(
            embeddings="openai:text-embedding-3-small",
            llm_api_key="sk-test-secret",
            llm_base_url=f"http://127.0.0.1:{server.server_port}/v1",
            _env_file=None,
        )
        emb = get_embedder(s)
        assert isinstance(emb, OpenAIEmbedder) and emb.name == "openai:text-embedding-3-small"
        vectors = emb.embed_documents(["ab", "abcd"])
        assert vectors.shape == (2, 3)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
        assert _FakeOpenAI.calls[-1]["model"] == "text-embedding-3-small"
        assert _FakeOpenAI.calls[-1]["auth"] == "Bearer sk-test-secret"
    finally:
        server.shutdown()


def test_openai_embeddings_need_a_key() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        get_embedder(Settings(embeddings="openai:text-embedding-3-small", _env_file=None))


def test_bad_embeddings_setting_is_rejected() -> None:
    with pytest.raises(ValueError, match="local"):
        Settings(embeddings="bert", _env_file=None)


def test_auto_backend_follows_the_collection(tmp_path: Path) -> None:
    """A new collection gets int8; one built at full precision keeps full precision."""
    from assistant.errors import EmbeddingMismatchError
    from assistant.models import Article
    from assistant.service import Assistant

    fresh = Assistant(Settings(store_dir=tmp_path / "a", _env_file=None), chat_model=None)
    assert fresh.settings.embed_backend == "auto"
    assert fresh.embedder.name == "all-MiniLM-L6-v2-int8"
    # answer-side scoring never meets stored vectors: it stays at full precision
    assert fresh.reading_embedder.name == "all-MiniLM-L6-v2"
    assert fresh.answerer.embedder is fresh.reading_embedder

    old = Settings(store_dir=tmp_path / "b", _env_file=None)
    Assistant(
        old.model_copy(update={"embed_backend": "onnx"}), chat_model=None
    ).store.claim_embedding_model("all-MiniLM-L6-v2")
    assert Assistant(old, chat_model=None).embedder.name == "all-MiniLM-L6-v2"
    # naming a runtime that does not match the collection is refused, not mixed
    forced = Assistant(old.model_copy(update={"embed_backend": "onnx-int8"}), chat_model=None)
    article = Article(id="x", title="T", text="Some words about a thing that happened today. " * 3)
    with pytest.raises(EmbeddingMismatchError, match="all-MiniLM-L6-v2"):
        forced.ingest_articles([article])
