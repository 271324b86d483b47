"""The stages import only downwards; the UI, CLI, evaluation and API only go through the service.

The contracts live in pyproject.toml ([tool.importlinter]) and are checked by import-linter:
service > answering > search > ingest (a `layers` contract), the ground floor (text, dates,
models, config, errors, resources) imports no stage, and the front doors (ui, assistant.cli,
assistant.evaluation, assistant.api) import only assistant.service, models, errors and config.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import ROOT

ALLOWED = {"assistant", "assistant.service", "assistant.models", "assistant.errors"}
ALLOWED |= {"assistant.config", "assistant.cli", "assistant.evaluation", "assistant.api"}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "importlinter.cli"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [*command, "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def contract(kind: str = "forbidden", source: str = "ui") -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [found] = [
        c
        for c in config["tool"]["importlinter"]["contracts"]
        if c["type"] == kind and (kind != "forbidden" or source in c["source_modules"])
    ]
    return found


def test_the_import_contract_is_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "3 kept, 0 broken" in result.stdout


def test_the_stages_are_the_folders_of_the_package() -> None:
    layers = contract("layers")["layers"]
    assert layers == [
        "assistant.service",
        "assistant.answering",
        "assistant.search",
        "assistant.ingest",
    ]
    for stage in layers[1:]:
        assert (ROOT / stage.replace(".", "/") / "__init__.py").is_file()


def test_every_module_behind_the_service_is_forbidden() -> None:
    """A new module of assistant/ is forbidden to the front ends unless it is added to ALLOWED."""
    top = {
        "assistant." + p.stem if p.is_file() else "assistant." + p.name
        for p in (ROOT / "assistant").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    assert top - ALLOWED <= set(contract()["forbidden_modules"])


def _copy_with(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess[str]:
    """import-linter on a copy of the package with ``line`` appended to ``module``'s file."""
    for name in ("assistant", "ui"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / (module.replace(".", "/") + ".py")).open("a", encoding="utf-8") as fh:
        fh.write(f"\n{line}  # noqa: E402,F401\n")
    return lint_imports(tmp_path)


def test_the_contract_can_fail(tmp_path: Path) -> None:
    result = _copy_with(tmp_path, "ui.components", "from assistant.search.store import ChunkStore")
    assert result.returncode != 0
    assert "ui.components -> assistant.search.store" in result.stdout


def test_an_upward_import_between_stages_fails(tmp_path: Path) -> None:
    """Searching must not depend on answering (ranking once imported citations for tokens)."""
    line = "from assistant.answering.citations import content_tokens"
    result = _copy_with(tmp_path, "assistant.search.ranking", line)
    assert result.returncode != 0
    assert "assistant.search.ranking -> assistant.answering.citations" in result.stdout
    assert "Stages import only downwards" in result.stdout


def test_the_ground_floor_cannot_import_a_stage(tmp_path: Path) -> None:
    result = _copy_with(tmp_path, "assistant.text", "from assistant.ingest import chunking")
    assert result.returncode != 0
    assert "assistant.text -> assistant.ingest" in result.stdout
