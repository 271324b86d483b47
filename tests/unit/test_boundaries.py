"""The UI, CLI and evaluation import only assistant.service, models, errors and config.

The contract lives in pyproject.toml ([tool.importlinter]) and is checked by import-linter.
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
ALLOWED |= {"assistant.config", "assistant.cli", "assistant.evaluation"}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "importlinter.cli"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [*command, "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def contract() -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [only] = config["tool"]["importlinter"]["contracts"]
    return only


def test_the_import_contract_is_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_every_module_behind_the_service_is_forbidden() -> None:
    """A new module of assistant/ is forbidden to the front ends unless it is added to ALLOWED."""
    top = {
        "assistant." + p.stem if p.is_file() else "assistant." + p.name
        for p in (ROOT / "assistant").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    assert top - ALLOWED <= set(contract()["forbidden_modules"])


def test_the_contract_can_fail(tmp_path: Path) -> None:
    for name in ("assistant", "ui"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / "ui" / "components.py").open("a", encoding="utf-8") as fh:
        fh.write("\nfrom assistant.store import ChunkStore  # noqa: E402,F401\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "ui.components -> assistant.store" in result.stdout
