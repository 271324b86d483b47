"""Settings: one pydantic-settings object, the only reader of the environment.

Every value can be set as ``ASSISTANT_<NAME>`` in the environment or in a ``.env`` file in the
working directory; the OpenAI key is also read from the usual ``OPENAI_API_KEY``.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__version__ = "0.1.0"  # `assistant.__version__`; the same as in pyproject.toml


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_file=".env",
        extra="ignore",
        validate_default=True,
        populate_by_name=True,
    )

    # --- store -------------------------------------------------------------------------------
    store_dir: Path = Field(
        default=Path(".assistant"),
        description="Folder of the embedded Chroma store, the BM25 index and the feedback file.",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (e.g. http://localhost:8000); unset = embedded store.",
    )
    collection: str = Field(default="news", description="Chroma collection name.")
    lock_timeout: float = Field(
        default=600.0, ge=0, description="Seconds an ingest waits for another writer (embedded)."
    )

    # --- embeddings --------------------------------------------------------------------------
    embeddings: str = Field(
        default="local",
        description="'local' = bundled all-MiniLM-L6-v2 (offline); 'openai:<model>' = OpenAI.",
    )
    embed_backend: str = Field(
        default="auto",
        description="Local model runtime: 'auto' (default: what the collection was built with; "
        "'onnx-int8' for a new one), 'onnx-int8' (ONNX Runtime, int8 weights: about 2x faster, same "
        "Hit@5 on RealTimeQA dev), 'onnx' (full precision, same vectors as torch) or 'torch'.",
    )
    embed_threads: int = Field(
        default=0,
        ge=0,
        description="Embedding runs at once with ONNX (one thread each) or torch threads; 0 = one per CPU.",
    )

    # --- chunking ----------------------------------------------------------------------------
    chunk_tokens: int = Field(
        default=220,
        ge=32,
        description="Target chunk size in tokens (about 250 wordpieces; the model reads 256). "
        "220 beat 180 on RealTimeQA dev: Hit@5 0.766 vs 0.745, choice accuracy 0.732 vs 0.696.",
    )
    chunk_overlap: int = Field(default=40, ge=0, description="Overlap between chunks in tokens.")
    min_article_chars: int = Field(
        default=40, ge=0, description="Articles with less text than this are skipped as stubs."
    )

    # --- retrieval ---------------------------------------------------------------------------
    k: int = Field(default=5, ge=1, le=100, description="Passages shown to the reader / LLM.")
    fetch_k: int = Field(default=50, ge=1, description="Candidates taken from each retriever.")
    max_per_article: int = Field(
        default=2, ge=1, description="At most this many chunks per article."
    )
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant ('rrf').")
    retrieval: str = Field(
        default="fused",
        description="'fused' (BM25 and dense candidates scored as news: text, headline, "
        "recency), 'rrf' (the earlier reciprocal rank fusion), 'dense' or 'lexical'.",
    )
    # Weights of the 'fused' score (assistant/search/ranking.py). Unset = the fitted weights that
    # ship in assistant/search/ranking.json (benchmarks/fit_news.py: fitted on RealTimeQA public
    # weeks only, reported on other years and weeks).
    rank_lexical: float | None = Field(
        default=None, ge=0, description="Weight of BM25 / best BM25 (unset: fitted)."
    )
    rank_dense: float | None = Field(
        default=None, ge=0, description="Weight of the cosine similarity (unset: fitted)."
    )
    rank_title: float | None = Field(
        default=None,
        ge=0,
        description="Weight of the share of question words in the headline (unset: fitted).",
    )
    rank_recency: float | None = Field(
        default=None,
        ge=0,
        description="Weight of recency relative to the question's date (unset: fitted).",
    )
    recency_days: float | None = Field(
        default=None, gt=0, description="Recency decays as exp(-age_days / this) (unset: fitted)."
    )

    # --- answering ---------------------------------------------------------------------------
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio)."
    )
    llm_model: str = Field(default="gpt-4o-mini", description="Chat model name.")
    llm_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("ASSISTANT_LLM_API_KEY", "OPENAI_API_KEY"),
        description="API key (also read from OPENAI_API_KEY).",
    )
    llm_timeout: float = Field(default=60.0, gt=0, description="Seconds per LLM request.")
    llm_max_retries: int = Field(default=3, ge=0, description="Retries on 429/5xx with backoff.")
    llm_temperature: float = Field(default=0.0, ge=0, le=2)
    llm_max_tokens: int = Field(default=512, ge=16)
    answer_at: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Extractive answers are answers when the calibrated answerability "
        "(assistant/answering/answerability.py) is at least this, hedged or refused below it; "
        "unset = the calibrated cut of the embedding model (assistant/answering/calibration.json, "
        "fitted by benchmarks/fit_news.py).",
    )
    hedge_at: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Extractive answers with an answerability from this up to answer_at are "
        "hedged (a candidate short answer and its quote, marked unsure) when the reader finds "
        "one; below it they are refused. Unset = the calibrated hedge cut of the embedding "
        "model (assistant/answering/calibration.json, fitted by benchmarks/fit_news.py).",
    )
    llm_floor: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="With an LLM, refuse without asking it below this answerability; unset = "
        "the calibrated floor (the model decides everything above it).",
    )
    support_threshold: float = Field(
        default=0.45, description="A cited sentence whose support is below this is flagged."
    )
    extractive_sentences: int = Field(
        default=2, ge=1, description="Sentences in an extractive answer."
    )

    # --- UI ----------------------------------------------------------------------------------
    ui_host: str = Field(default="127.0.0.1", description="Address the Streamlit UI binds to.")
    ui_port: int = Field(default=8501, description="Port of the Streamlit UI.")

    # --- fetching URLs and feeds (assistant/ingest/fetch.py) ------------------------------
    fetch_timeout: float = Field(
        default=15.0, gt=0, description="Seconds to connect, and between bytes, per HTTP request."
    )
    fetch_max_bytes: int = Field(
        default=5_000_000, ge=1024, description="Largest page or feed read; bigger is a failure."
    )
    fetch_retries: int = Field(
        default=3, ge=0, description="Retries on HTTP 429/5xx and failed connections, with backoff."
    )
    fetch_backoff: float = Field(
        default=1.0, ge=0, description="First retry wait in seconds (doubles each time)."
    )
    fetch_max_wait: float = Field(
        default=60.0,
        ge=0,
        description="Longest Retry-After honoured; a server asking for more is a failure.",
    )
    fetch_max_redirects: int = Field(default=5, ge=0, description="Redirects followed per URL.")
    user_agent: str = Field(
        default=f"news-assistant/{__version__} (+https://pypi.org/project/news-assistant/)",
        description="User-Agent of every request; robots.txt rules for 'news-assistant' apply.",
    )
    fetch_public_only: bool = Field(
        default=False,
        description="Fetch from public internet addresses only: a URL, redirect hop or feed item "
        "whose host is (or resolves to) a loopback, private, link-local, multicast, reserved or "
        "unspecified address is not fetched (one failure line each; the rest of the batch goes "
        "on). Every connection is checked as it is made. `assistant serve` turns this on for "
        "the URLs its clients send unless ASSISTANT_API_ALLOW_PRIVATE_URLS is set.",
    )
    fetch_trusted_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR, comma-separated) that public-only fetching "
        "may reach all the same, e.g. an intranet news server: '10.0.5.0/24,192.168.1.7'.",
    )

    # --- serving other tools: `assistant serve` (HTTP API) and `assistant mcp` (assistant/api/) ---
    # Without a key the servers listen on loopback only. Keys are never logged or written:
    # public_dict() shows SecretStr values masked.
    api_host: str = Field(default="127.0.0.1", description="Address `assistant serve` binds to.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port of `assistant serve`.")
    api_keys: SecretStr | None = Field(
        default=None,
        description="API keys, comma-separated: 'rw:KEY' may read and ingest/delete, 'ro:KEY' may "
        "only read (ask, search, timeline, stats, articles); a bare KEY is read-write. Sent as "
        "'Authorization: Bearer KEY' (what OpenAI clients send) or 'X-API-Key: KEY'.",
    )
    api_keys_file: Path | None = Field(
        default=None,
        description="File of SHA-256-hashed keys, one a line: 'rw:<hex digest>' or "
        "'ro:<hex digest>' (a bare digest is read-write; '#' starts a comment).",
    )
    api_max_body: int = Field(
        default=10_000_000, ge=1024, description="Largest request body in bytes (larger: 413)."
    )
    api_max_concurrent: int = Field(
        default=16, ge=1, description="Requests handled at once; more are refused with 429."
    )
    api_allow_private_urls: bool = Field(
        default=False,
        description="Let URL ingest through the API fetch private, loopback and link-local "
        "addresses, also through redirects and feed items (only on a trusted network; the CLI "
        "may unless ASSISTANT_FETCH_PUBLIC_ONLY is set).",
    )

    @field_validator("embeddings")
    @classmethod
    def _check_embeddings(cls, value: str) -> str:
        if value != "local" and not (value.startswith("openai:") and len(value) > len("openai:")):
            msg = f"ASSISTANT_EMBEDDINGS must be 'local' or 'openai:<model>', not {value!r}"
            raise ValueError(msg)
        return value

    @field_validator("fetch_trusted_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            value = [str(part).strip() for part in value]
            for part in value:
                try:
                    ipaddress.ip_network(part, strict=False)
                except ValueError:
                    msg = (
                        "ASSISTANT_FETCH_TRUSTED_NETWORKS must be addresses or networks such as "
                        f"10.0.5.0/24, comma-separated; {part!r} is neither"
                    )
                    raise ValueError(msg) from None
        return value

    @field_validator("embed_backend")
    @classmethod
    def _check_backend(cls, value: str) -> str:
        if value not in {"auto", "torch", "onnx", "onnx-int8"}:
            msg = f"ASSISTANT_EMBED_BACKEND must be auto, onnx-int8, onnx or torch, not {value!r}"
            raise ValueError(msg)
        return value

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url or self.llm_api_key)

    @property
    def lexical_dir(self) -> Path:
        return self.store_dir / "lexical" / self.collection

    @property
    def feedback_file(self) -> Path:
        return self.store_dir / "feedback.jsonl"

    def public_dict(self) -> dict[str, object]:
        """Settings safe to print or write in reports: the API key is never included."""
        data = self.model_dump(mode="json", exclude={"llm_api_key"})
        data["llm_api_key_set"] = self.llm_api_key is not None
        return data

    @property
    def feeds_dir(self) -> Path:
        """HTTP validators (ETag / Last-Modified) and the watch state, beside the store."""
        return self.store_dir / "feeds"
