"""Loaders on the real data in the shared folder: the counts its README documents."""

from collections import Counter

from benchmark.data import PoolSpec, load_pool
from benchmark.data.flan import load_flan
from benchmark.data.mmlu import few_shot_examples, load_mmlu, mmlu_subjects

DOLLY_CATEGORIES = {
    "open_qa": 147,
    "general_qa": 102,
    "classification": 75,
    "brainstorming": 75,
    "closed_qa": 59,
    "information_extraction": 48,
    "summarization": 46,
    "creative_writing": 25,
}


def test_mmlu_release_layout(data_dir):
    path = data_dir / "mmlu"
    assert len(mmlu_subjects(path)) == 57
    test = load_mmlu(path=path)
    assert len(test) == 14_042
    assert len({q.subject for q in test}) == 57
    assert Counter(q.subject for q in test)["abstract_algebra"] == 100
    assert len(load_mmlu(path=path, split="val")) == 1_531
    dev = load_mmlu(path=path, split="dev")
    assert Counter(q.subject for q in dev) == dict.fromkeys(mmlu_subjects(path), 5)
    shots = few_shot_examples(dev, "anatomy", 5)
    assert [q.subject for q in shots] == ["anatomy"] * 5
    assert all(len(q.choices) == 4 and 0 <= q.answer < 4 for q in test)


def test_mmlu_subject_subset(data_dir):
    questions = load_mmlu(path=data_dir / "mmlu", subjects=["anatomy", "virology"])
    assert {q.subject for q in questions} == {"anatomy", "virology"}


def test_flan_slice_templates_and_source_datasets(data_dir):
    raw = load_flan(path=str(data_dir / "flan_t0"))
    # 55,185 records in 283 templates; the 7 trec templates (1,400 records) have empty completions
    assert len(raw) == 55_185 - 1_400
    assert len({ex.task for ex in raw}) == 283 - 7
    assert not any(ex.response.endswith("<|endoftext|>") or not ex.response for ex in raw)
    coarse = load_pool(PoolSpec("flan", {"path": str(data_dir / "flan_t0"), "task_level": "coarse"}))
    assert len(coarse.pool.tasks) == 36
    assert len(coarse.pool) + coarse.duplicates_dropped == 55_185 - 1_400
    assert coarse.duplicates_dropped > 0
    assert coarse.pool.task_counts()["xsum"] == 2000


def test_dolly_head_sample(data_dir):
    loaded = load_pool(
        PoolSpec("dolly", {"path": str(data_dir / "dolly_sample/databricks-dolly-15k.head577.jsonl")})
    )
    assert len(loaded.pool) + loaded.duplicates_dropped == 577
    assert loaded.pool.task_counts() == DOLLY_CATEGORIES
    with_context = [ex for ex in loaded.pool.examples if ex.task == "closed_qa"]
    assert all("\n\n" in ex.prompt for ex in with_context)  # closed_qa always carries a context
