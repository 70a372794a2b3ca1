"""Leak-free splits: shared source content is found across templates, boilerplate is not content."""

import json

import numpy as np
import pytest

from benchmark.config import load_sweep_config
from benchmark.data import PoolSpec, load_pool
from benchmark.data.overlap import content_index, leakage
from benchmark.data.sources import SOURCES
from benchmark.types import Example
from tests.conftest import ROOT

PASSAGES = [
    "the river otter builds its den in the bank of a slow stream and hunts fish at night with its whiskers",
    "a comet is a small icy body that warms near the sun and releases gas into a long glowing tail behind it",
    "the first printing presses in europe used movable metal type cast in moulds invented around 1440",
    "honey bees tell each other where flowers are by a waggle dance whose angle points to the food",
]


def rendered(passage: str, template: str, question: str, answer: str) -> Example:
    """One source record under one of two templates (each with its own boilerplate)."""
    if template == "a":
        prompt = f"Read the passage and answer the question below it.\n{passage}\nQuestion: {question}"
    else:
        prompt = f"{passage}\n\nGiven the text above, respond to this question: {question} Answer:"
    return Example(prompt, answer, "reading", "test", template=f"reading_{template}")


def corpus() -> list[Example]:
    return [
        rendered(p, t, f"what is said about item {i}?", f"answer {i}")
        for i, p in enumerate(PASSAGES)
        for t in ("a", "b")
    ]


def test_same_passage_under_two_templates_is_one_group_and_boilerplate_links_nothing():
    groups = content_index(corpus()).groups()
    assert groups.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]  # template text is shared by all: not content


def test_a_planted_leak_is_found_and_a_clean_split_has_none():
    examples = corpus()
    clean = leakage(examples[:4], examples[4:])  # passages 0-1 against 2-3
    assert (clean.leaked_examples, clean.leaked_groups) == (0, 0)
    planted = leakage([*examples[:4], examples[4]], examples[5:])  # passage 2: template a in the pool
    assert planted.leaked_examples == 1
    assert planted.leaked_groups == 1
    assert planted.examples_with_same_answer == 1
    assert planted.rate == pytest.approx(1 / 3)


def random_passages(n: int, seed: int = 0) -> list[str]:
    words = [f"{a}{b}" for a in ("ka", "lo", "mi", "su", "te", "vu") for b in ("ran", "del", "pok", "wis")]
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(words, size=20)) for _ in range(n)]


def test_content_split_holds_out_one_example_per_group_and_drops_the_rest_of_it(tmp_path):
    records = [
        {"prompt": ex.prompt, "response": ex.response, "task": ex.task}
        for i, p in enumerate(random_passages(20))
        for copy in range(2)
        for ex in [rendered(p, t, f"question {copy} on text {i}?", f"answer {i} {copy}") for t in ("a", "b")]
    ]
    path = tmp_path / "reading.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    loaded = load_pool(PoolSpec("generic", {"path": str(path)}, heldout_per_task=2))
    assert len(loaded.heldout) == 2
    assert leakage(loaded.pool.examples, loaded.heldout.examples).leaked_examples == 0
    # each passage appears 4 times: 2 held out take their 6 siblings out of the pool
    assert loaded.overlap_dropped == 6
    assert len(loaded.pool) == len(records) - 8
    record = load_pool(PoolSpec("generic", {"path": str(path)}, heldout_per_task=2, split="record"))
    assert leakage(record.pool.examples, record.heldout.examples).leaked_examples == 2


@pytest.fixture(scope="module")
def flan_study(data_dir):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SELBENCH_DATA_DIR", str(data_dir))
        config = load_sweep_config(ROOT / "configs" / "study" / "flan_v2.yaml")
    return config.pool, load_pool(config.pool)


def test_flan_study_split_has_no_leaked_group(flan_study):
    spec, loaded = flan_study
    source = SOURCES.get(spec.source)(**spec.options)
    leak = leakage(loaded.pool.examples, loaded.heldout.examples, source)
    assert leak.leaked_groups == 0
    assert leak.leaked_examples == 0
    assert set(loaded.heldout.task_counts().values()) == {25}


def test_record_split_of_the_same_pool_leaks(flan_study):
    """The check is not vacuous: the old record-level split of the same tasks does share content."""
    spec, _ = flan_study
    record = load_pool(PoolSpec(**{**spec.__dict__, "split": "record", "max_examples": None}))
    source = SOURCES.get(spec.source)(**spec.options)
    assert leakage(record.pool.examples, record.heldout.examples, source).leaked_groups > 0
