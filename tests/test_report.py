import json

import pytest

from benchmark.errors import SelbenchError
from benchmark.store import RunStore
from runners.report import annotation_savings, format_table, results_frame, summary_table
from runners.sweep import execute
from tests.fake_harness import FakeHarness
from tests.test_sweep_execute import CONFIG


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("runs"))
    execute(CONFIG, FakeHarness(), store, progress=False)
    return list(store.records())


def test_summary_has_base_and_full_rows_in_every_column(records):
    stats = summary_table(results_frame(records, "heldout", "acc"))
    assert set(stats["strategy"]) == {"random", "task_uniform", "kcenter"}
    assert sorted(set(stats["budget"])) == [0, 15, 60]
    base = stats[stats["budget"] == 0]
    assert base["mean"].tolist() == [0.0, 0.0, 0.0]
    uniform = stats[(stats["strategy"] == "task_uniform") & (stats["budget"] == 15)].iloc[0]
    assert uniform["mean"] == 1.0
    assert uniform["count"] == 2


def test_savings_and_formats(records):
    stats = summary_table(results_frame(records, "heldout", "acc"))
    savings = annotation_savings(stats)
    assert savings["task_uniform"] == 15  # every task covered at 15 of 60 examples: full accuracy
    markdown = format_table(stats, pool_size=60)
    assert "| 0 (base model)" in markdown
    assert "60 (full pool)" in markdown
    assert "15 (25.0%)" in markdown
    assert "**1.000 ± 0.000 (n=2)**" in markdown
    assert format_table(stats, 60, "csv").startswith("budget,share,strategy,mean,std,count")
    assert "\\begin{tabular}" in format_table(stats, 60, "latex")


def test_report_command(tmp_path, capsys):
    from runners.cli import main

    execute(CONFIG, FakeHarness(), RunStore(tmp_path / "sweep" / "runs"), progress=False)
    assert (
        main(["report", str(tmp_path / "sweep"), "--metric", "acc", "--out", str(tmp_path / "tables")]) == 0
    )
    out = capsys.readouterr().out
    assert "0 (base model)" in out
    assert "task_uniform: 15" in out
    assert (tmp_path / "tables" / "table.tex").is_file()
    assert "difference to random on the same budgets and seeds" in out
    assert "task_uniform" in (tmp_path / "tables" / "comparison.md").read_text()
    provenance = json.loads((tmp_path / "tables" / "provenance.json").read_text())
    assert provenance["cells"] == 9
    assert provenance["configs"][0]["name"] == "fake"
    assert provenance["cell_code_commits"]
    assert (
        main(["report", str(tmp_path / "sweep"), "--baseline", "kcenter", "--out", str(tmp_path / "k")]) == 0
    )
    assert "difference to kcenter" in capsys.readouterr().out
    assert "random" in (tmp_path / "k" / "comparison.md").read_text()
    assert (tmp_path / "tables" / "accuracy_vs_cost.png").stat().st_size > 10_000
    assert (tmp_path / "tables" / "per_task_heatmap.png").stat().st_size > 10_000
    assert main(["report", str(tmp_path / "empty")]) == 2


def test_without_a_full_pool_row_nothing_is_labelled_full(records):
    stats = summary_table(results_frame([r for r in records if r["cell"]["budget"] < 60], "heldout", "acc"))
    assert "full pool" not in format_table(stats, pool_size=60)
    assert set(annotation_savings(stats).values()) == {None}


def test_every_strategy_tied_for_best_is_marked():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "strategy": ["a", "b", "c"],
            "budget": [5, 5, 5],
            "share": [0.5, 0.5, 0.5],
            "seed": [0, 0, 0],
            "value": [0.75, 0.75, 0.25],
        }
    )
    stats = summary_table(frame)
    markdown = format_table(stats, pool_size=10)
    assert markdown.count("**0.750 (n=1)**") == 2
    assert "**0.250" not in markdown
    assert markdown.count("\\textbf{0.750 (n=1)}") == 0
    assert format_table(stats, 10, "latex").count("\\textbf{0.750 (n=1)}") == 2


def test_paired_comparison_matches_budgets_and_seeds():
    import pandas as pd
    from scipy import stats as tests

    from runners.report import format_comparison, p_text, paired_comparison

    rows = []
    for budget in (10, 20):
        for seed in range(4):
            base = 0.5 + 0.01 * seed
            rows.append(("random", budget, seed, base))
            rows.append(("better", budget, seed, base + 0.1 + 0.01 * (seed % 2)))
            rows.append(("same", budget, seed, base))
    rows += [("base", 0, 0, 0.3), ("full", 100, 0, 0.9)]
    frame = pd.DataFrame(rows, columns=["strategy", "budget", "seed", "value"]).assign(
        share=lambda f: f["budget"] / 100
    )
    table = paired_comparison(frame)
    assert set(table.index) == {"better", "same"}
    better = table.loc["better"]
    assert better["10: diff"] == pytest.approx(0.105)
    assert better["pairs"] == 8
    diffs = [0.1, 0.11, 0.1, 0.11] * 2
    assert better["all: p (t)"] == pytest.approx(tests.ttest_1samp(diffs, 0).pvalue)
    assert better["all: p (t)"] < 0.05
    assert table.loc["same", "all: p (t)"] == 1.0
    wilcoxon = table["all: p (wilcoxon)"]
    assert table["all: p (wilcoxon, BH)"].tolist() == pytest.approx(
        tests.false_discovery_control(wilcoxon.to_numpy()).tolist()
    )
    assert (table["all: p (wilcoxon, BH)"] >= wilcoxon).all()
    markdown = format_comparison(table)
    assert "+0.105 (p<0.001)*" in markdown
    assert "BH-adjusted" in markdown
    assert [p_text(p) for p in (0.0382, 0.2, 0.0004, float("nan"))] == [
        "p=0.038",
        "p=0.2",
        "p<0.001",
        "p=n/a",
    ]
    assert "difference to random" in markdown
    with pytest.raises(SelbenchError, match="baseline strategy 'random'"):
        paired_comparison(frame[frame["strategy"] != "random"])


def test_report_warns_when_a_folder_mixes_configurations(tmp_path, capsys):
    import dataclasses

    from runners.cli import main

    store = RunStore(tmp_path / "sweep" / "runs")
    execute(CONFIG, FakeHarness(), store, progress=False)
    execute(dataclasses.replace(CONFIG, name="other", budgets=(30,)), FakeHarness(), store, progress=False)
    assert main(["report", str(tmp_path / "sweep")]) == 0
    assert "holds runs of 2 different configurations" in capsys.readouterr().out
