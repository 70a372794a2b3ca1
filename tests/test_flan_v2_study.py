"""The published flan_v2 study detects its known effects (issue 13's bar), read from its committed cells.

While the study is being computed (its cells are committed as they land) the check waits for all of
them and says how many are missing; once complete it fails if the benchmark cannot rank its positive
control below random or the full pool above the base model, with intervals that exclude zero. The
completed study fails the first: that test is a strict expected failure, recording the finding (it
turns red if the committed cells ever say otherwise).
"""

import pytest

from benchmark.config import load_sweep_config
from benchmark.errors import SelbenchError
from benchmark.store import RunStore
from runners.comparison import paired_comparison
from runners.coverage import coverage_effect, coverage_frame, covered_tasks
from runners.leaderboard import pool_tasks
from runners.power import Difference, design_mde, full_versus_base
from runners.report import results_frame
from tests.conftest import ROOT

CONFIG = ROOT / "configs" / "study" / "flan_v2.yaml"
PRIMARY = ("heldout", "gold_logprob_macro")
# the strategies the study was designed and fixed with; those added later (issue 16) come on top
DESIGNED = {"random", "task_uniform", "task_proportional", "task_inverse_confidence", "kcenter", "diversity",
            "uncertainty", "few_tasks"}  # fmt: skip


@pytest.fixture(scope="module")
def records():
    config = load_sweep_config(CONFIG)
    found = [
        r
        for r in RunStore(ROOT / config.output_dir / "runs").runs()
        if r.strategy in DESIGNED | {"base", "full"} and not r.cell.params
    ]
    expected = 1 + len(config.seeds) + len(DESIGNED) * len(config.seeds) * (len(config.budgets) - 2)
    if len(found) < expected:
        pytest.skip(f"flan_v2 study in progress: {len(found)} of {expected} cells stored")
    return found


@pytest.mark.xfail(
    strict=True,
    reason="the completed study does not rank its control below random: few_tasks minus random "
    "+0.011 [-0.046, +0.068] on gold log-likelihood (results/flan_v2/README.md); its redesign on a base "
    "model does (tests/test_flan_v2_gemma_study.py)",
)
def test_positive_control_is_ranked_below_random_over_seeds(records):
    frame = results_frame(records, *PRIMARY)
    comparison = paired_comparison(frame, "random", {"few_tasks"})
    control = comparison.loc[("few_tasks", "all")]
    assert control["high"] < 0, (
        f"few_tasks minus random: {control['diff']:+.3f} [{control['low']:+.3f}, {control['high']:+.3f}]"
    )


def test_full_pool_is_above_the_base_model(records):
    gain = full_versus_base(results_frame(records, *PRIMARY))
    assert isinstance(gain, Difference)
    assert gain.low > 0


def test_coverage_explains_why_the_control_is_not_detected(records):
    """Why the xfail above fails (runners.coverage): the value of covering a task on the primary family,
    times the tasks the control leaves uncovered, predicts a difference from random that lies inside the
    design's MDE at every budget, bounds included. Reads the FLAN data for the pool's task labels."""
    try:
        task_of = pool_tasks(records)
    except SelbenchError as err:
        pytest.skip(f"the study's pool is not readable here: {err}")
    frame = coverage_frame(records, "heldout", "gold_logprob", task_of)
    fit = coverage_effect(frame, resamples=500)
    covered = covered_tasks(frame)
    mdes = design_mde(results_frame(records, *PRIMARY), "random", {"few_tasks"})
    tasks = frame["task"].nunique()
    for budget, row in covered.iterrows():
        share = (row["few_tasks"] - row["random"]) / tasks
        assert share < 0  # the control does cover fewer tasks
        predicted = max(abs(fit["a_low"] * share), abs(fit["a_high"] * share))
        assert predicted < mdes[str(budget)], (budget, predicted, mdes[str(budget)])
