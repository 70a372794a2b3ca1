"""The static leaderboard site: built from the committed studies' leaderboard files, with clear errors
for bad ones, and checked in a real headless browser (Debian's chromium through selenium)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from benchmark.config import load_sweep_config
from benchmark.errors import SelbenchError
from benchmark.store import RunStore
from runners.leaderboard import leaderboard
from runners.site import build_site, comparison_table, find_studies, metric_table, ordered_metrics

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
FLAN_V2 = RESULTS / "flan_v2" / "sweep"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    return out, build_site(RESULTS, out)


def committed_boards() -> dict[str, dict]:
    return {s.name: s.board for s in find_studies(RESULTS)}


def test_every_committed_study_gets_a_page_with_its_files(site):
    out, studies = site
    names = {s.name for s in studies}
    assert {"flan_v2", "flan_v2_pilot", "synthetic", "flan_t0_cpu"} <= names
    index = (out / "index.html").read_text()
    assert "no: a known effect is not detected" in index  # flan_v2's verdict, on the index
    for study in studies:
        assert f'href="{study.name}.html"' in index
        page = (out / f"{study.name}.html").read_text()
        assert page.count('class="plotly-graph-div"') >= len(study.board["metrics"])  # a curve per metric
        assert (out / study.name / "leaderboard.json").is_file()
        for folder in study.reports:
            assert (out / study.name / folder.name / "table.csv").is_file()
    assert (out / "assets" / "plotly.min.js").stat().st_size > 1_000_000  # bundled: no network needed
    assert "https://" not in (out / "flan_v2.html").read_text().split("<body>")[0]  # nothing loaded remotely


def test_published_config_reproduces_the_rows_cell_for_cell(site, data_dir, monkeypatch, capsys):
    """The config.yaml each page links, with a row's command, plans exactly that row's committed cells:
    every cell key matches, so nothing is left to run."""
    from runners.cli import main

    out, studies = site
    monkeypatch.setenv("SELBENCH_DATA_DIR", str(data_dir))
    monkeypatch.chdir(ROOT)  # the config's output_dir is the committed store
    config = load_sweep_config(out / "flan_v2" / "config.yaml")
    assert (config.name, len(config.strategies), config.budgets) == ("flan_v2", 10, (0, 12, 24, 48, "full"))
    board = next(s.board for s in studies if s.name == "flan_v2")
    row = next(s for s in board["strategies"] if s["params"])
    overrides = row["command"].split("--set ", 1)[1].strip("'")
    assert main(["sweep", str(out / "flan_v2" / "config.yaml"), "--set", overrides, "--dry-run"]) == 0
    assert "21 cells, 21 already done, 0 to run" in capsys.readouterr().out


def test_metric_table_marks_rows_and_orders_references_last():
    board = committed_boards()["flan_v2"]
    metric = next(m for m in board["metrics"] if m["metric"] == "gold_logprob_macro")
    table = metric_table(board, metric)
    assert len(table) == len(board["strategies"]) + 2  # and the base model and the full pool
    assert list(table["strategy"][-2:]) == ["base", "full"]
    assert dict(zip(table["strategy"], table["kind"], strict=True))["few_tasks"] == "control"
    assert {"12", "12 ±", "48", "AUC"} <= set(table.columns)
    random = table.set_index("strategy").loc["random"]
    cell = next(c for c in metric["cells"] if c["strategy"] == "random" and c["budget"] == 48)
    assert random["48"] == pytest.approx(cell["mean"])
    assert random["48 ±"] == pytest.approx((cell["high"] - cell["low"]) / 2)


def test_comparison_of_a_design_without_an_mde_keeps_its_rows():
    """A study of the baseline and its control alone has no design MDE (no ordinary strategy to pool):
    leaderboard.json holds null there, and the page shows it empty instead of failing."""
    metric = {"comparison": [{"strategy": "few_tasks", "budget": "48", "diff": -0.38312, "low": -0.9,
                              "high": 0.13, "mde": None, "verdict": "inconclusive"}]}  # fmt: skip
    table = comparison_table(metric)
    assert table.loc[0, "minus random"] == -0.3831
    assert pd.isna(table.loc[0, "mde"])


def test_allocations_count_each_tasks_examples():
    records = RunStore(FLAN_V2 / "runs").runs()
    task_of = {u: f"t{int(u[:2], 16) % 3}" for r in records if r.selection for u in r.selection.uids}
    board = leaderboard(records, "flan_v2", task_of)
    random48 = [a for a in board["allocations"] if a["strategy"] == "random" and a["budget"] == 48]
    assert sum(a["mean"] for a in random48) == pytest.approx(48)
    assert {a["task"] for a in random48} == {"t0", "t1", "t2"}


def bad_results(tmp_path: Path, board: object, text: str | None = None) -> Path:
    folder = tmp_path / "results" / "study" / "report"
    folder.mkdir(parents=True)
    (folder / "leaderboard.json").write_text(text if text is not None else json.dumps(board))
    return tmp_path / "results"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b | {"schema_version": 1}, "schema_version 1, this selbench reads 2. Rewrite it"),
        (
            lambda b: {k: v for k, v in b.items() if k != "allocations"},
            "top level: 'allocations' is a required",
        ),
        (lambda b: b | {"budgets": ["x"]}, "budgets/0: 'x' is not of type 'integer'"),
    ],
)
def test_bad_leaderboard_files_are_named_with_the_fix(tmp_path, change, message):
    board = json.loads((RESULTS / "synthetic" / "heldout" / "leaderboard.json").read_text())
    results = bad_results(tmp_path, change(board))
    with pytest.raises(SelbenchError, match=r"leaderboard\.json: ") as err:
        build_site(results, tmp_path / "site")
    assert message in str(err.value)
    assert not (tmp_path / "site").exists()  # nothing half-written


def test_cli_errors_are_one_line_and_exit_2(tmp_path):
    results = bad_results(tmp_path, None, text="{not json")
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    selbench = [sys.executable, "-m", "runners.cli"]
    cases = [
        ([str(results), "--out", str(tmp_path / "site")], "not a readable leaderboard file"),
        ([str(tmp_path / "nowhere"), "--out", str(tmp_path / "site")], "not a folder"),
        ([str(tmp_path / "mine"), "--out", str(tmp_path / "site")], "no leaderboard.json under it"),
        ([str(RESULTS), "--out", str(other)], "a folder that is not a selbench site"),
    ]
    for args, message in cases:
        done = subprocess.run([*selbench, "leaderboard", *args], capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert "Traceback" not in done.stderr
    assert (other / "notes.txt").read_text() == "keep me"
    assert not (tmp_path / "site").exists()


def test_a_rebuilt_site_replaces_the_previous_one(tmp_path):
    out = tmp_path / "site"
    build_site(RESULTS, out)
    (out / "stale.html").write_text("old")
    build_site(RESULTS, out)
    assert not (out / "stale.html").exists()
    assert (out / "index.html").is_file()


# --- in a real browser ------------------------------------------------------------------------------

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
browser_missing = CHROMIUM is None or DRIVER is None
if browser_missing and os.environ.get("SELBENCH_REQUIRE_BROWSER") == "1":  # CI: .ci/run installs it
    raise RuntimeError("chromium and chromedriver are required (apt-get install chromium chromium-driver)")


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,2000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def wait_until(driver, condition, what: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 120).until(condition, message=what)


def visible_table(driver, table_id: str):
    """The DataTable itself (itables also writes a static fallback copy of each table, hidden once the
    script has run)."""
    from selenium.webdriver.common.by import By

    return next(t for t in driver.find_elements(By.CSS_SELECTOR, f"table#{table_id}") if t.is_displayed())


def column_values(table, column: int) -> list[str]:
    from selenium.webdriver.common.by import By

    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    return [row.find_elements(By.TAG_NAME, "td")[column].text for row in rows]


@pytest.mark.skipif(browser_missing, reason="needs chromium and chromedriver (CI installs them)")
def test_site_renders_sorts_and_loads_everything_in_a_browser(site, browser, tmp_path):
    from selenium.webdriver.common.by import By

    out, studies = site
    browser.get((out / "index.html").as_uri())
    wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "table#studies.dataTable"), "index table")
    index = visible_table(browser, "studies")
    assert len(index.find_elements(By.CSS_SELECTOR, "tbody tr")) == len(studies)
    for study in studies:
        browser.get((out / f"{study.name}.html").as_uri())
        board = study.board
        expected = len(board["metrics"])
        wait_until(
            browser,
            lambda d, n=expected: (
                len(d.find_elements(By.CSS_SELECTOR, "table.dataTable[id^=T_metric_]")) >= n
            ),
            f"{study.name}: metric tables",
        )
        for i, metric in enumerate(ordered_metrics(board)):
            table = visible_table(browser, f"T_metric_{i}")
            rows = len({c["strategy"] for c in metric["cells"]})
            assert len(table.find_elements(By.CSS_SELECTOR, "tbody tr")) == rows, (study.name, i)
        plots = len(browser.find_elements(By.CSS_SELECTOR, "div.plotly-graph-div"))
        wait_until(
            browser,
            lambda d, n=plots: len(d.find_elements(By.CSS_SELECTOR, "div.plotly-graph-div .main-svg")) >= n,
            f"{study.name}: every plot drawn",
        )
        assert browser.find_elements(By.TAG_NAME, "img"), study.name
        wait_until(
            browser,
            lambda d: d.execute_script(
                "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"
            ),
            f"{study.name}: every image loaded",
        )
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, (study.name, errors)
    # sorting: the flan_v2 headline table by the AUC column, ascending then descending
    browser.get((out / "flan_v2.html").as_uri())
    wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "table#T_metric_0.dataTable"), "table")
    table = visible_table(browser, "T_metric_0")
    headers = [h.text for h in table.find_elements(By.CSS_SELECTOR, "thead th")]
    auc = headers.index("AUC")
    sort_auc = table.find_elements(By.CSS_SELECTOR, "thead th")[auc].find_element(
        By.CSS_SELECTOR, ".dt-column-order"
    )
    before = column_values(table, 0)

    def auc_values():
        return [float(v) for v in column_values(table, auc) if v]

    sort_auc.click()
    wait_until(browser, lambda d: auc_values() == sorted(auc_values()), "AUC sorted ascending")
    assert column_values(table, 0) != before
    sort_auc.click()
    wait_until(browser, lambda d: auc_values() == sorted(auc_values(), reverse=True), "AUC sorted descending")
    screenshot = Path(os.environ.get("SELBENCH_SCREENSHOT_DIR", tmp_path)) / "leaderboard.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000
    assert yaml.safe_load((out / "flan_v2" / "config.yaml").read_text())["name"] == "flan_v2"
