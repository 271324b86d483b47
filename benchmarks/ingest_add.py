"""``bench_ingest --add``: adding a few articles to a big store, end to end.

    python -m benchmarks.bench_ingest --add --store /work/bench/rt /work/bench/big100k \\
        --corpus ../shared/data/bbc-news/articles.jsonl [--n 10] [--repeat 3] [--code DIR]

For each store and repeat: the store folder is copied to a scratch folder (the source is never
written), then a fresh process (the "adder", like an ``assistant ingest`` run) loads the
embedding model (timed apart), starts a second process (the "reader") that opens the copy, loads
its lexical index and answers one query, and adds ``--n`` corpus articles that are not in the
store through ``Assistant.ingest_articles``. Reported:

- ``add_s``: the whole ``ingest_articles`` call (chunking, embedding, Chroma writes, lexical index);
- ``embed_s``: the embedding part (the ingest report's ``seconds_embedding``);
- ``lexical_s``: time inside the lexical-index code: every function and method of the modules of
  ``assistant.search`` named ``*lexical*``/``*tantivy*``/``*bm25*`` is wrapped and the outermost
  calls are timed (whatever those functions are called in the version under test);
  ``outside_run_s`` is the other measure — ``add_s`` minus the time in ``IngestRun.run``;
- ``rchar_mb`` / ``read_mb``: bytes this process read during the add (``/proc/self/io``: ``rchar``
  counts every read() even from the page cache — the copy is fresh, so ``read_bytes``, the
  reads that reached the disk, stay near zero); ``wchar_mb`` likewise for writes;
- ``visible_ms``: from the end of the add to the first ``search`` of the reader (polled
  continuously once told, through a pipe, that the add finished) whose top 10 holds the last
  added article, queried by its title and first words.

Only the public service API (``Assistant``, ``ingest_articles``, ``search``, ``embedder``) is
used, so the same benchmark runs on the code of any commit (``--code``, benchmarks/codepath.py).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import pkgutil
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.codepath import code_label
from benchmarks.common import RESULTS, machine, peak_rss_mb, table

LEXICAL_WORDS = ("lexical", "tantivy", "bm25")
POLL_TIMEOUT_S = 120.0


# --- measuring ------------------------------------------------------------------------------


def proc_io() -> dict[str, int]:
    """This process's I/O counters (Linux ``/proc/self/io``); empty elsewhere."""
    try:
        with open("/proc/self/io") as fh:
            return {k: int(v) for k, v in (line.split(":") for line in fh if ":" in line)}
    except OSError:
        return {}


class Timer:
    """Adds up the time spent in the outermost calls of the wrapped functions."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.rchar = 0  # bytes read (``/proc/self/io``) inside the outermost calls
        self.calls: Counter[str] = Counter()
        self._local = threading.local()

    def wrap(self, fn: Callable[..., Any], name: str) -> Callable[..., Any]:
        import functools

        timer = self

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(timer._local, "depth", 0)
            timer._local.depth = depth + 1
            r0 = proc_io().get("rchar", 0) if depth == 0 else 0
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                timer._local.depth = depth
                if depth == 0:
                    timer.seconds += time.perf_counter() - t0
                    timer.rchar += proc_io().get("rchar", 0) - r0
                    timer.calls[name] += 1

        timed.__wrapped_by_bench__ = True  # type: ignore[attr-defined]
        return timed

    def reset(self) -> None:
        self.seconds = 0.0
        self.rchar = 0
        self.calls.clear()


def lexical_modules() -> list[Any]:
    """The modules of ``assistant.search`` that hold the lexical index code."""
    import assistant.search as search

    mods = []
    for info in pkgutil.walk_packages(search.__path__, search.__name__ + "."):
        last = info.name.rsplit(".", 1)[-1].lower()
        if any(word in last for word in LEXICAL_WORDS):
            try:
                mods.append(importlib.import_module(info.name))
            except ImportError:
                continue
    return mods


def instrument_lexical(timer: Timer) -> list[str]:
    """Wrap every function and method defined in the lexical modules (and every other loaded
    ``assistant`` module's reference to those functions); returns the module names."""
    mods = lexical_modules()
    replaced: dict[int, Callable[..., Any]] = {}
    for mod in mods:
        for name, obj in list(vars(mod).items()):
            if inspect.isfunction(obj) and obj.__module__ == mod.__name__:
                wrapped = timer.wrap(obj, f"{mod.__name__}.{name}")
                replaced[id(obj)] = wrapped
                setattr(mod, name, wrapped)
            elif inspect.isclass(obj) and obj.__module__ == mod.__name__:
                _instrument_class(timer, obj)
    for mod_name, other in list(sys.modules.items()):  # `from ... import f` copies the reference
        if not mod_name.startswith("assistant") or other is None:
            continue
        for name, obj in list(vars(other).items()):
            if id(obj) in replaced and obj is not replaced[id(obj)]:
                setattr(other, name, replaced[id(obj)])
    return [m.__name__ for m in mods]


def _instrument_class(timer: Timer, cls: type) -> None:
    for attr, val in list(vars(cls).items()):
        if attr.startswith("__") and attr != "__init__":
            continue
        label = f"{cls.__module__}.{cls.__qualname__}.{attr}"
        if inspect.isfunction(val):
            setattr(cls, attr, timer.wrap(val, label))
        elif isinstance(val, classmethod):
            setattr(cls, attr, classmethod(timer.wrap(val.__func__, label)))
        elif isinstance(val, staticmethod):
            setattr(cls, attr, staticmethod(timer.wrap(val.__func__, label)))
        elif isinstance(val, property) and val.fget is not None:
            setattr(
                cls, attr, property(timer.wrap(val.fget, label), val.fset, val.fdel, val.__doc__)
            )


def instrument_run(timer: Timer) -> bool:
    """Time ``IngestRun.run`` (the pipeline: chunk, embed, write to Chroma) when it exists."""
    try:
        from assistant.ingest.pipeline import IngestRun
    except ImportError:
        return False
    run = getattr(IngestRun, "run", None)
    if run is None:
        return False
    IngestRun.run = timer.wrap(run, "IngestRun.run")  # type: ignore[method-assign]
    return True


# --- the processes ----------------------------------------------------------------------------


def _settings(store: Path, collection: str) -> Any:
    from assistant.config import Settings

    return Settings(store_dir=store, collection=collection, _env_file=None)  # type: ignore[call-arg]


def pick_articles(assistant: Any, corpus: Path, n: int, offset: int) -> list[Any]:
    """``n`` corpus articles (of 500+ characters) that the store does not hold, after ``offset``."""
    from assistant.ingest import iter_articles

    articles = [
        a
        for a in iter_articles([corpus])
        if not hasattr(a, "reason") and len(a.text) >= 500  # type: ignore[union-attr]
    ]
    stored_whole = getattr(assistant.store, "stored_whole", None)
    held: set[str] = set()
    if callable(stored_whole):
        held = set(stored_whole([a.id for a in articles]))
    fresh = [a for a in articles if a.id not in held]
    picked = fresh[offset : offset + n]
    if len(picked) < n:
        msg = f"only {len(picked)} articles of {corpus} after {offset} are not in the store"
        raise SystemExit(msg)
    return picked


def probe_query(article: Any) -> str:
    """The title and the first words of the article: it should rank in the top 10 once visible."""
    words = article.text.split()[:20]
    return f"{article.title} {' '.join(words)}"


def run_add(args: argparse.Namespace) -> dict[str, Any]:
    """The adder: warm up, start the reader, add ``n`` articles, tell the reader, report."""
    from assistant.service import Assistant

    settings = _settings(args.copy, args.collection)
    assistant = Assistant(settings, chat_model=False)
    t0 = time.perf_counter()
    assistant.embedder.embed_query("warm up")  # the model load (and the store's metadata)
    model_load_s = time.perf_counter() - t0
    chunks_before = assistant.store.count()
    articles = pick_articles(assistant, args.corpus, args.n, args.offset)
    target = articles[-1]
    query = probe_query(target)

    reader = subprocess.Popen(
        [
            sys.executable, "-m", "benchmarks.bench_ingest", "--one", "reader",
            "--copy", str(args.copy), "--collection", args.collection,
            "--query", query, "--target-id", target.id,
            *(["--code", str(args.code)] if args.code else []),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert reader.stdout is not None and reader.stdin is not None
    ready_line = reader.stdout.readline()
    if not ready_line.startswith("READY "):
        reader.kill()
        msg = f"the reader did not start: {ready_line!r}"
        raise SystemExit(msg)
    ready = json.loads(ready_line[len("READY ") :])

    lexical_timer = Timer()
    modules = instrument_lexical(lexical_timer)
    run_timer = Timer()
    has_run = instrument_run(run_timer)
    lexical_timer.reset()
    io0 = proc_io()
    t0 = time.perf_counter()
    report = assistant.ingest_articles(articles)
    add_s = time.perf_counter() - t0
    finished = time.monotonic()
    io1 = proc_io()
    reader.stdin.write(f"GO {finished!r}\n")
    reader.stdin.flush()
    out, _ = reader.communicate(timeout=POLL_TIMEOUT_S + 600)
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    seen = json.loads(line[len("RESULT ") :]) if line else {"error": "no result from the reader"}

    def mb(key: str) -> float | None:
        return round((io1[key] - io0[key]) / 2**20, 2) if key in io0 and key in io1 else None

    run_s = run_timer.seconds if has_run else None
    return {
        "store": str(args.source or args.copy),
        "chunks_before": chunks_before,
        "articles": len(articles),
        "chunks_added": report.chunks_added,
        "embedded": report.chunks_embedded,
        "model_load_s": round(model_load_s, 2),
        "add_s": round(add_s, 3),
        "embed_s": round(report.seconds_embedding, 3),
        "lexical_s": round(lexical_timer.seconds, 3),
        "lexical_rchar_mb": round(lexical_timer.rchar / 2**20, 2),
        "run_rchar_mb": round(run_timer.rchar / 2**20, 2) if has_run else None,
        "lexical_calls": dict(lexical_timer.calls),
        "lexical_modules": modules,
        "run_s": round(run_s, 3) if run_s is not None else None,
        "outside_run_s": round(add_s - run_s, 3) if run_s is not None else None,
        "rchar_mb": mb("rchar"),
        "read_mb": mb("read_bytes"),
        "wchar_mb": mb("wchar"),
        "write_mb": mb("write_bytes"),
        "visible_ms": seen.get("visible_ms"),
        "reader": {**ready, **seen},
        "peak_rss_mb": peak_rss_mb(),
        **code_label(),
    }


def run_reader(args: argparse.Namespace) -> None:
    """The other process: open the store, load the lexical index, answer one query, then
    wait for "GO <monotonic time the add finished>" and poll until the new article shows."""
    from assistant.service import Assistant

    settings = _settings(args.copy, args.collection)
    t0 = time.perf_counter()
    assistant = Assistant(settings, chat_model=False)
    assistant.embedder.embed_query("warm up")
    open_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    lexical = getattr(assistant, "lexical", None)
    if callable(lexical):
        lexical()
    lexical_load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    before = assistant.search(args.query, k=10)
    first_ms = (time.perf_counter() - t0) * 1000
    ready = {
        "reader_open_s": round(open_s, 2),
        "reader_lexical_load_s": round(lexical_load_s, 2),
        "reader_query_ms": round(first_ms, 1),
        "visible_before": any(p.article_id == args.target_id for p in before),
    }
    print("READY " + json.dumps(ready), flush=True)
    line = sys.stdin.readline().split()
    if len(line) != 2 or line[0] != "GO":
        return  # the adder failed: it reports
    finished = float(line[1])
    told_ms = (time.monotonic() - finished) * 1000
    polls = errors = 0
    first_poll_ms: float | None = None
    visible_ms: float | None = None
    found: dict[str, Any] = {}
    while time.monotonic() - finished < POLL_TIMEOUT_S:
        t0 = time.perf_counter()
        try:
            passages = assistant.search(args.query, k=10)
        except Exception as exc:  # a store mid-change may answer an error: count it, go on
            errors += 1
            found["last_error"] = f"{type(exc).__name__}: {exc}"[:300]
            passages = []
        polls += 1
        if first_poll_ms is None:
            first_poll_ms = (time.perf_counter() - t0) * 1000
        hit = next((p for p in passages if p.article_id == args.target_id), None)
        if hit is not None:
            visible_ms = (time.monotonic() - finished) * 1000
            found.update(rank=hit.n, dense_rank=hit.dense_rank, lexical_rank=hit.lexical_rank)
            break
        time.sleep(0.005)
    if visible_ms is not None:  # does this process's vector index see it too (or only BM25)?
        try:
            dense = assistant.search(args.query, k=10, mode="dense")
            found["dense_sees_it"] = any(p.article_id == args.target_id for p in dense)
        except Exception as exc:
            found["dense_sees_it"] = f"{type(exc).__name__}: {exc}"[:200]
    result = {
        "visible_ms": round(visible_ms, 1) if visible_ms is not None else None,
        "told_ms": round(told_ms, 2),
        "polls": polls,
        "poll_errors": errors,
        "first_poll_ms": round(first_poll_ms, 1) if first_poll_ms is not None else None,
        **found,
    }
    print("RESULT " + json.dumps(result), flush=True)


# --- the parent -----------------------------------------------------------------------------


def _copy_store(source: Path, scratch: Path) -> tuple[Path, float]:
    target = scratch / "store"
    t0 = time.perf_counter()
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock"))
    return target, time.perf_counter() - t0


def main_add(args: argparse.Namespace) -> None:
    if not args.store:
        raise SystemExit("--add needs --store (one or more store folders; each is copied first)")
    results: list[dict[str, Any]] = []
    for store in args.store:
        if not (store / "chroma").is_dir():
            raise SystemExit(f"{store} is not an embedded store folder (no chroma/ inside)")
        for rep in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="bench-add-", dir=args.scratch) as tmp:
                copy, copy_s = _copy_store(store, Path(tmp))
                cmd = [
                    sys.executable, "-m", "benchmarks.bench_ingest", "--one", "add",
                    "--copy", str(copy), "--source", str(store), "--collection", args.collection,
                    "--corpus", str(args.corpus), "--n", str(args.n), "--offset", str(rep * args.n),
                    *(["--code", str(args.code)] if args.code else []),
                ]  # fmt: skip
                print(f"{store} repeat {rep + 1}/{args.repeat} (copied in {copy_s:.1f} s) …",
                      file=sys.stderr, flush=True)  # fmt: skip
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
                line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
                if line is None:
                    print(proc.stderr[-3000:], file=sys.stderr)
                    continue
                row = json.loads(line[len("RESULT ") :])
                row.update(repeat=rep + 1, copy_s=round(copy_s, 1))
                results.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)

    summary = summarise(results)
    cols = ["store", "chunks_before", "repeat", "chunks_added", "add_s", "embed_s", "lexical_s",
            "outside_run_s", "rchar_mb", "lexical_rchar_mb", "run_rchar_mb", "read_mb", "wchar_mb",
            "visible_ms"]  # fmt: skip
    print(table(results, cols))
    print()
    scols = ["store", "chunks_before", "runs", "add_s", "embed_s", "lexical_s", "rchar_mb",
             "lexical_rchar_mb", "run_rchar_mb", "wchar_mb", "visible_ms", "model_load_s"]  # fmt: skip
    print("medians:")
    print(table(summary, scols))
    if len(summary) >= 2:
        small, big = summary[0], summary[-1]
        size = big["chunks_before"] / small["chunks_before"]
        for key in ("add_s", "lexical_s", "rchar_mb", "lexical_rchar_mb", "run_rchar_mb",
                    "visible_ms"):  # fmt: skip
            if small.get(key) and big.get(key) is not None:
                print(f"{key}: x{big[key] / small[key]:.2f} for x{size:.2f} the chunks")
    label = args.label or (results[0]["assistant_commit"] if results else "none")
    path = write_runs(label, {
        "corpus": str(args.corpus), "n": args.n, "repeat": args.repeat,
        "summary": summary, "results": results,
    })  # fmt: skip
    print(f"\nwritten {path} (run {label!r})")


def summarise(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median of each measure per store, smallest store first."""
    out = []
    for store in dict.fromkeys(r["store"] for r in results):
        rows = [r for r in results if r["store"] == store]
        row: dict[str, Any] = {"store": store, "chunks_before": rows[0]["chunks_before"]}
        row["runs"] = len(rows)
        for key in ("add_s", "embed_s", "lexical_s", "outside_run_s", "rchar_mb", "read_mb",
                    "lexical_rchar_mb", "run_rchar_mb", "wchar_mb", "write_mb", "visible_ms",
                    "model_load_s"):  # fmt: skip
            values = [r[key] for r in rows if r.get(key) is not None]
            row[key] = round(statistics.median(values), 3) if values else None
        out.append(row)
    return sorted(out, key=lambda r: r["chunks_before"])


def write_runs(label: str, data: dict[str, Any]) -> Path:
    """benchmarks/results/ingest_add.json holds one entry per label (e.g. before / after)."""
    path = RESULTS / "ingest_add.json"
    runs: dict[str, Any] = {}
    if path.exists():
        try:
            runs = json.loads(path.read_text(encoding="utf-8")).get("runs", {})
        except (OSError, ValueError):
            runs = {}
    runs[label] = {"machine": machine(), **data}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"runs": runs}, indent=2) + "\n", encoding="utf-8")
    return path


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--add", action="store_true", help="Time adding --n articles to --store.")
    ap.add_argument("--n", type=int, default=10, help="--add: articles added per run.")
    ap.add_argument("--repeat", type=int, default=3, help="--add: runs per store (fresh copies).")
    ap.add_argument("--collection", default="news", help="--add: collection of the stores.")
    ap.add_argument("--scratch", type=Path, default=None, help="--add: folder for the copies.")
    ap.add_argument("--label", default=None, help="--add: name of this run in ingest_add.json.")
    ap.add_argument("--code", type=Path, help="Import assistant from this tree (codepath.py).")
    ap.add_argument("--copy", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--query", help=argparse.SUPPRESS)
    ap.add_argument("--target-id", help=argparse.SUPPRESS)
