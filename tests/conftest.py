"""Test set-up: nothing touches the network; real data is read from the workplace's shared folder."""

import os
import tempfile
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # Ray's usage report would probe hosts off the machine
os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="selbench-hf-datasets-"))

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data (MMLU, FLAN slice, Dolly head): ../shared/data or $SELBENCH_DATA_DIR."""
    path = Path(os.environ.get("SELBENCH_DATA_DIR", ROOT.parent / "shared" / "data"))
    if not (path / "mmlu").is_dir():
        pytest.fail(f"real data not found at {path}: set SELBENCH_DATA_DIR to the shared data folder")
    return path
