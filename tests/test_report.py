import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.errors import SelbenchError
from benchmark.store import RunStore
from runners.power import Difference
from runners.report import annotation_savings, format_table, results_frame, summary_table
from runners.sweep import execute
from tests.fake_harness import FakeHarness
from tests.test_sweep_execute import CONFIG


def test_worst_gain_is_the_smallest_per_task_gain_over_the_base_model(fake_sweep_records):
    """A derived metric (not stored): a cell leaving one task behind scores low however much it gains
    on the others. The FakeHarness solves exactly the tasks a selection covers."""
    frame = results_frame(fake_sweep_records, "heldout", "acc_worst_gain").set_index(
        ["strategy", "budget", "seed"]
    )
    base = next(r for r in fake_sweep_records if r.strategy == "base").per_task("heldout", "acc")
    for r in fake_sweep_records:
        gains = [v - base[t] for t, v in r.per_task("heldout", "acc").items()]
        assert frame.loc[(r.table_label, r.cell.budget, r.cell.seed), "value"] == pytest.approx(min(gains))
    assert frame.loc[("base", 0, 0), "value"] == 0
    with pytest.raises(SelbenchError, match="derived from per-task values: acc_worst_gain"):
        results_frame(fake_sweep_records, "heldout", "acc_worst")


def test_summary_has_base_and_full_rows_in_every_column(fake_sweep_records):
    stats = summary_table(results_frame(fake_sweep_records, "heldout", "acc"))
    assert set(stats["strategy"]) == {"random", "task_uniform", "kcenter"}
    assert sorted(set(stats["budget"])) == [0, 15, 60]
    base = stats[stats["budget"] == 0]
    assert base["mean"].tolist() == [0.0, 0.0, 0.0]
    uniform = stats[(stats["strategy"] == "task_uniform") & (stats["budget"] == 15)].iloc[0]
    assert uniform["mean"] == 1.0
    assert uniform["count"] == 2


def test_savings_and_formats(fake_sweep_records):
    stats = summary_table(results_frame(fake_sweep_records, "heldout", "acc"))
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
    assert "minus random on the same budgets and seeds" in out
    assert "full pool minus base model" in out
    assert "task_uniform" in (tmp_path / "tables" / "comparison.md").read_text()
    provenance = json.loads((tmp_path / "tables" / "provenance.json").read_text())
    assert provenance["cells"] == 9
    assert provenance["configs"][0]["name"] == "fake"
    assert provenance["cell_code_commits"]
    assert (
        main(["report", str(tmp_path / "sweep"), "--baseline", "kcenter", "--out", str(tmp_path / "k")]) == 0
    )
    assert "minus kcenter" in capsys.readouterr().out
    assert "random" in (tmp_path / "k" / "comparison.md").read_text()
    assert (tmp_path / "tables" / "accuracy_vs_cost.png").stat().st_size > 10_000
    assert (tmp_path / "tables" / "per_task_heatmap.png").stat().st_size > 10_000
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert main(["report", str(tmp_path / "sweep"), "--signal", "--out", str(tmp_path / "s")]) == 0
    assert "signal of every metric" in capsys.readouterr().out
    assert "design MDE" in (tmp_path / "s" / "signal.md").read_text()


def test_without_a_full_pool_row_nothing_is_labelled_full(fake_sweep_records):
    stats = summary_table(
        results_frame([r for r in fake_sweep_records if r.cell.budget < 60], "heldout", "acc")
    )
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


def comparison_frame(control_gap: float = -0.2):
    import pandas as pd

    rows = []
    for budget in (10, 20):
        for seed in range(4):
            base = 0.5 + 0.01 * seed
            rows.append(("random", budget, seed, base))
            rows.append(("better", budget, seed, base + 0.1 + 0.01 * (seed % 2)))
            rows.append(("same", budget, seed, base))
            rows.append(("few_tasks", budget, seed, base + control_gap + 0.02 * (seed % 2)))
    rows += [("base", 0, 0, 0.3)] + [("full", 100, seed, 0.9 + 0.01 * seed) for seed in range(4)]
    return pd.DataFrame(rows, columns=["strategy", "budget", "seed", "value"]).assign(
        share=lambda f: f["budget"] / 100
    )


def test_paired_comparison_intervals_mde_and_verdicts():
    from scipy import stats as tests

    from runners.comparison import format_comparison, p_text, paired_comparison
    from runners.power import mde

    frame = comparison_frame()
    table = paired_comparison(frame, controls={"few_tasks"})
    assert set(table.index.get_level_values(0)) == {"better", "same", "few_tasks"}
    better = table.loc[("better", "all")]
    assert better["diff"] == pytest.approx(0.105)
    assert better["pairs"] == 8
    diffs = [0.1, 0.11, 0.1, 0.11] * 2
    assert better["p (t)"] == pytest.approx(tests.ttest_1samp(diffs, 0).pvalue)
    half = tests.t.ppf(0.975, 7) * np.std(diffs, ddof=1) / np.sqrt(8)
    assert (better["low"], better["high"]) == pytest.approx((0.105 - half, 0.105 + half))
    assert better["mde"] == pytest.approx(mde(np.std(diffs, ddof=1), 8))
    assert better["verdict"] == "win"
    assert table.loc[("few_tasks", "all"), "verdict"] == "loss"
    assert table.loc[("same", "all"), "verdict"].startswith("inconclusive (MDE ")
    assert table.loc[("same", "all"), "p (t)"] == 1.0
    # the design's MDE pools 'better' and 'same' (not the control): sd of the differences 0.00535 and 0
    pooled = np.sqrt(np.var(diffs, ddof=1) * 7 / 14)
    assert table.loc[("same", "all"), "design mde"] == pytest.approx(mde(pooled, 8, df=14))
    wilcoxon = table["p (wilcoxon)"].dropna()
    assert table["p (wilcoxon, BH)"].dropna().tolist() == pytest.approx(
        tests.false_discovery_control(wilcoxon.to_numpy()).tolist()
    )
    markdown = format_comparison(table)
    assert f"+0.105 [{0.105 - half:+.3f}, {0.105 + half:+.3f}]" in markdown
    assert "few_tasks (control) @ all" in markdown
    assert "| loss " in markdown  # the verdict and pair count columns are filled, not nan
    assert "nan" not in markdown.split("few_tasks (control) @ all")[1].split("\n")[0]
    assert [p_text(p) for p in (0.0382, 0.2, 0.0004, float("nan"))] == [
        "p=0.038",
        "p=0.2",
        "p<0.001",
        "p=n/a",
    ]
    with pytest.raises(SelbenchError, match="baseline strategy 'random'"):
        paired_comparison(frame[frame["strategy"] != "random"])


def test_metric_signal_puts_the_mde_against_the_gain():
    from runners.power import metric_signal

    frame = comparison_frame()
    (row,) = [r for r in metric_signal(frame, "random", {"few_tasks"}) if r["budget"] == 10]
    assert row["random minus base"] == pytest.approx(0.515 - 0.3)
    assert row["MDE / gain"] == pytest.approx(row["design MDE"] / 0.215)
    assert row["few_tasks minus random"].startswith("-0.19")


def test_mde_shrinks_with_pairs_and_grows_with_noise():
    from runners.power import mde

    assert mde(0.01, 20) < mde(0.01, 5) < mde(0.02, 5)
    # the normal-approximation value for large n: (1.96 + 0.84) sd / sqrt(n)
    assert mde(1.0, 10_000) == pytest.approx(2.8016 / 100, rel=1e-3)


def test_an_interval_of_levels_equal_up_to_rounding_is_computed_without_warnings():
    """Leaderboard cells put intervals on raw levels; two seeds at 0.13 and 0.13000000000000003 made
    scipy's t-test warn of catastrophic cancellation into `selbench report`'s output."""
    from scipy import stats as tests

    values = np.array([0.13000000000000003, 0.13])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = Difference.of(values)
    assert d.p == pytest.approx(0.0, abs=1e-9)
    assert d.low == pytest.approx(0.13)
    assert d.high == pytest.approx(0.13)
    varied = np.array([-3.0872, -3.1453, -3.0871])
    assert Difference.of(varied).p == pytest.approx(tests.ttest_1samp(varied, 0).pvalue)


def test_an_undetected_control_is_a_warning_at_the_top():
    from runners.comparison import comparison_report

    text, warnings = comparison_report(comparison_frame(), "random")
    assert not warnings
    assert "positive control few_tasks minus random, all budgets" in text
    assert "ranked below random" in text
    assert "full pool minus base model" in text
    assert "Signal and noise per budget" in text
    text, warnings = comparison_report(comparison_frame(control_gap=0.0), "random")
    assert warnings
    assert warnings[0].startswith("WARNING: this sweep could not detect a known effect")
    assert "NOT ranked below random" in text
    one_seed = comparison_frame()
    text, warnings = comparison_report(one_seed[one_seed["seed"] == 0], "random")
    assert not warnings  # one seed tests nothing: said, not warned about
    assert "full pool minus base model: +0.600 over 1 seeds: untested" in text


def test_report_warns_when_a_folder_mixes_configurations(tmp_path, capsys):
    import dataclasses

    from benchmark.config import ComponentSpec
    from runners.cli import main

    store = RunStore(tmp_path / "sweep" / "runs")
    execute(CONFIG, FakeHarness(), store, progress=False)
    more = dataclasses.replace(
        CONFIG, name="more", budgets=(30,), strategies=(ComponentSpec("task_proportional"),)
    )
    execute(more, FakeHarness(), store, progress=False)  # more cells of the same design: one configuration
    assert main(["report", str(tmp_path / "sweep"), "--allow-partial"]) == 0
    assert "different configurations" not in capsys.readouterr().out
    other = dataclasses.replace(CONFIG, training=dataclasses.replace(CONFIG.training, learning_rate=1e-3))
    execute(other, FakeHarness(), store, progress=False)
    assert main(["report", str(tmp_path / "sweep"), "--allow-partial"]) == 0
    assert "holds runs of 2 different configurations" in capsys.readouterr().out


def test_report_names_missing_and_failed_cells_and_exits_1_unless_partial_is_allowed(tmp_path, capsys):
    from runners.cli import main

    store = RunStore(tmp_path / "sweep" / "runs")
    execute(CONFIG, FakeHarness(fail_budget=60), store, progress=False)  # the full-pool cells fail
    for path in store.root.glob("*.json"):  # one finished cell is lost
        cell = json.loads(path.read_text())["cell"]
        if cell["strategy"]["name"] == "random" and cell["seed"] == 1:
            path.unlink()
    assert main(["report", str(tmp_path / "sweep"), "--metric", "acc", "--out", str(tmp_path / "t")]) == 1
    out = capsys.readouterr().out
    assert "PARTIAL: 3 planned cells have no record: random budget=15 seed=1, full budget=60 seed=0" in out
    assert "FAILED: 2 cells failed on their last attempt: full budget=60 seed=0, full budget=60 seed=1" in out
    assert "(n=1 of 2)" in out  # the random column says how many seeds it averages
    table = (tmp_path / "t" / "table.md").read_text()
    assert table.startswith("> PARTIAL: 3 planned cells")
    allowed = ["report", str(tmp_path / "sweep"), "--metric", "acc", "--allow-partial"]
    assert main(allowed) == 0


def test_a_run_of_a_few_rows_does_not_hide_the_rest_of_the_plan(tmp_path):
    """A later run of one row (`--set strategies=[...]`, the site's reproduce command) stores a smaller
    configuration; the cells the study's own configuration plans are still missing until they run."""
    import dataclasses

    from benchmark.config import ComponentSpec
    from runners.report import missing_cells

    store = RunStore(tmp_path / "runs")
    one_row = dataclasses.replace(CONFIG, strategies=(ComponentSpec("random"),), budgets=(0, 15))
    execute(one_row, FakeHarness(), store, progress=False)
    assert missing_cells(store.runs()) == []  # its own plan is complete
    execute(CONFIG, FakeHarness(fail_budget=60), store, progress=False)
    assert missing_cells(store.runs()) == ["full budget=60 seed=0", "full budget=60 seed=1"]


def test_report_names_unknown_metric_evaluator_and_baseline(tmp_path, capsys):
    from runners.cli import main

    execute(CONFIG, FakeHarness(), RunStore(tmp_path / "s" / "runs"), progress=False)
    for flags, message in (
        (["--metric", "accc"], "--metric 'accc': no stored heldout run has it. Did you mean 'acc'?"),
        (["--evaluator", "mmlu"], "--evaluator 'mmlu': no stored run has it."),
        (
            ["--metric", "acc", "--baseline", "randon"],
            "--baseline 'randon': no stored run of it. Did you mean",
        ),
    ):
        assert main(["report", str(tmp_path / "s"), *flags]) == 2
        assert message in capsys.readouterr().err


def test_a_sweep_of_the_base_model_alone_reports(tmp_path, capsys):
    import dataclasses

    from runners.cli import main

    execute(
        dataclasses.replace(CONFIG, budgets=(0,)),
        FakeHarness(),
        RunStore(tmp_path / "s" / "runs"),
        progress=False,
    )
    assert main(["report", str(tmp_path / "s"), "--metric", "acc"]) == 0
    assert "0 (base model)" in capsys.readouterr().out


def reads_expected() -> dict[str, tuple[str, ...]]:
    return {
        "random": (),
        "task_uniform(within=kcenter)": ("prompts", "tasks"),
        "uncertainty [oracle]": ("base_model", "prompts", "responses"),
        "few_tasks(n_tasks=1)": ("prompts", "tasks"),
    }


def test_tables_name_parameters_mark_oracles_and_know_controls_with_parameters(tmp_path):
    from benchmark.config import ComponentSpec
    from runners.comparison import control_strategies

    config = dataclasses.replace(
        CONFIG,
        strategies=(
            ComponentSpec("random"),
            ComponentSpec("task_uniform", {"within": "kcenter"}),
            ComponentSpec("uncertainty"),
            ComponentSpec("few_tasks", {"n_tasks": 1}),
        ),
    )
    harness = FakeHarness()  # as with scorer confidence 'reference': scored on the gold responses
    harness.feature_reads = lambda names: frozenset({"responses"} if "confidence" in names else ())
    store = RunStore(tmp_path / "runs")
    execute(config, harness, store, progress=False)
    runs = store.runs()
    frame = results_frame(runs, "heldout", "acc")
    assert set(frame["strategy"]) == {"base", "full", *reads_expected()}
    assert control_strategies(set(frame["strategy"])) == {"few_tasks(n_tasks=1)"}
    reads = {r.table_label: r.selection.reads for r in runs if r.cell.budget == 15}
    assert reads == reads_expected()
    assert "uncertainty [oracle]" in format_table(summary_table(frame), 60)


def test_records_store_selection_cost_and_the_report_sets_it_against_training(tmp_path, capsys):
    from runners.cli import main
    from runners.costs import selection_costs

    store = RunStore(tmp_path / "runs")
    execute(CONFIG, FakeHarness(), store, progress=False)
    runs = store.runs()
    kcenter = next(r for r in runs if r.strategy == "kcenter")
    assert kcenter.selection.cost["scoring_seconds"] == 0.5  # the fake's price of one feature
    assert kcenter.selection.cost["scoring_tokens"] == 100
    assert kcenter.selection.cost["select_seconds"] > 0
    random = next(r for r in runs if r.strategy == "random")
    assert random.selection.cost["scoring_seconds"] == 0
    assert random.selection.cost["scoring_tokens"] == 0
    assert not next(r for r in runs if r.strategy == "base").selection.cost  # nothing was selected
    costs = selection_costs(runs)
    assert list(costs.index) == ["kcenter", "random", "task_uniform"]
    assert costs.loc["kcenter", "scoring s"] == 0.5
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "report")]) == 0
    assert "selection / training" in capsys.readouterr().out
    assert "| kcenter" in (tmp_path / "report" / "costs.md").read_text()


def curve_frame():
    """Base 0.2; full 0.8 (seed 0) and 1.0 (seed 1); 'fast' reaches the full pool at 25 % of 100 examples,
    'slow' climbs linearly."""
    import pandas as pd

    rows = [("base", 0, 0.0, 0, 0.2)]
    for seed, full in ((0, 0.8), (1, 1.0)):
        rows.append(("full", 100, 1.0, seed, full))
        rows += [("fast", 25, 0.25, seed, full), ("fast", 50, 0.5, seed, full)]
        rows += [
            ("slow", 25, 0.25, seed, 0.2 + 0.25 * (full - 0.2)),
            ("slow", 50, 0.5, seed, 0.2 + 0.5 * (full - 0.2)),
        ]
    return pd.DataFrame(rows, columns=["strategy", "budget", "share", "seed", "value"])


def test_area_under_curve_budget_to_reach_and_win_tie_loss():
    from runners.curves import area_under_curve, budget_to_reach, format_curves, win_tie_loss

    frame = curve_frame()
    auc = area_under_curve(frame)
    # slow is the straight line from 0.2 to the full value: its mean height is their midpoint
    assert auc.loc["slow", "auc"] == pytest.approx(np.mean([(0.2 + 0.8) / 2, (0.2 + 1.0) / 2]))
    assert auc.loc["fast", "auc"] > auc.loc["slow", "auc"]
    reach = budget_to_reach(frame, 0.9, pool_size=100)
    assert reach.loc["fast", "budget"] == pytest.approx(0.9 * 25)  # interpolated between base and 25
    assert reach.loc["slow", "not reached"] == 2  # 90 % of the gain only at the full pool itself
    matrix = win_tie_loss(frame)
    assert matrix.loc["fast", "slow"] == "win"
    assert matrix.loc["slow", "fast"] == "loss"
    text = format_curves(frame, 100)
    assert "budget to 90% of the full pool's gain" in text
    assert "not reached" in text


def test_report_writes_a_leaderboard_that_matches_its_schema(tmp_path):
    import jsonschema

    from runners.cli import main
    from runners.leaderboard import schema

    store = RunStore(tmp_path / "study" / "sweep" / "runs")
    execute(CONFIG, FakeHarness(), store, progress=False)
    assert main(["report", str(tmp_path / "study" / "sweep"), "--out", str(tmp_path / "out")]) == 0
    board = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    jsonschema.validate(board, schema())
    assert board["schema_version"] == 2
    assert board["study"] == "fake"  # the configuration's name
    assert board["config"]["name"] == "fake"
    assert board["strategies"][0]["command"] == "selbench sweep config.yaml --set 'strategies=[kcenter]'"
    # the pool is loaded again to count how many examples each task received
    uniform15 = [a for a in board["allocations"] if a["strategy"] == "task_uniform" and a["budget"] == 15]
    assert sum(a["mean"] for a in uniform15) == pytest.approx(15)
    assert len({a["mean"] for a in uniform15}) == 1  # uniform: the same count for every task
    assert [s["label"] for s in board["strategies"]] == ["kcenter", "random", "task_uniform"]
    heldout = next(m for m in board["metrics"] if (m["evaluator"], m["metric"]) == ("heldout", "acc_macro"))
    uniform = next(c for c in heldout["cells"] if c["strategy"] == "task_uniform" and c["budget"] == 15)
    assert (uniform["n"], uniform["mean"]) == (2, 1.0)
    assert len(board["selections"]) == 9  # every cell: the base model (none), 6 strategy cells, 2 full
    broken = dict(board, schema_version=1)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema())


def test_a_budget_without_cells_is_a_gap_in_the_curve(tmp_path, monkeypatch):
    """A strategy with no finished cell at a budget must not be drawn as a straight line across it."""
    from runners import plots

    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig) or Path(path))
    rows = [(0, "base"), (10, "random"), (10, "kcenter"), (20, "random"), (40, "random"), (40, "kcenter")]
    frame = pd.DataFrame(
        [
            {"strategy": s, "budget": b, "share": b / 40, "seed": seed, "value": b / 40 + seed / 100}
            for b, s in rows
            for seed in (0, 1)
        ]
    )
    plots.plot_curves(summary_table(frame), tmp_path / "c.png", "acc", "acc")
    lines = {line.get_label(): line.get_ydata() for line in figures[0].axes[0].lines}
    assert np.isnan(lines["kcenter"]).tolist() == [False, False, True, False]
    assert not np.isnan(lines["random"]).any()
    assert "a gap in a line" in figures[0].axes[0].get_title()
