"""Test set-up: nothing touches the network; real data is read from the workplace's shared folder."""

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

from tests import network_audit

# Property tests draw their examples from a fixed seed: every run (CI included) tests the same examples,
# as every other random choice here flows from an explicit seed.
settings.register_profile("selbench", derandomize=True)
settings.load_profile("selbench")

os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="selbench-hf-datasets-"))
# The hub's offline switches and Ray's usage-statistics switch are unset (before any of those libraries
# is imported): selbench itself must stay on the machine when it reads local files, and the audit hook
# fails the session when any code tries to leave it.
for variable in network_audit.OFFLINE_SWITCHES:
    os.environ.pop(variable, None)
network_audit.install()

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data (MMLU, FLAN slice, Dolly head): ../shared/data or $SELBENCH_DATA_DIR."""
    # Absolute, because tests that change the working folder pass it on to the CLI.
    path = Path(os.environ.get("SELBENCH_DATA_DIR", ROOT.parent / "shared" / "data")).resolve()
    if not (path / "mmlu").is_dir():
        pytest.fail(f"real data not found at {path}: set SELBENCH_DATA_DIR to the shared data folder")
    return path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when any code tried to leave the machine, even code that survived the refusal."""
    if network_audit.BLOCKED:
        print(f"\nnetwork audit: {len(network_audit.BLOCKED)} attempts to leave the machine:")
        for attempt in sorted(set(network_audit.BLOCKED)):
            print(f"  {attempt}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def fake_sweep_records(tmp_path_factory):
    """The records of one finished sweep of tests.test_sweep_execute.CONFIG on the FakeHarness (which
    solves exactly the tasks a selection covers), computed once for every test that only reads them."""
    from benchmark.store import RunStore
    from runners.sweep import execute
    from tests.fake_harness import FakeHarness
    from tests.test_sweep_execute import CONFIG

    store = RunStore(tmp_path_factory.mktemp("fake-sweep") / "runs")
    execute(CONFIG, FakeHarness(), store, progress=False)
    return store.runs()
