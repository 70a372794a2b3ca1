"""Loaders on small files the tests write: Dolly schema, generic tables, synthetic pool, hub code path."""

import json

import pandas as pd
import pytest

from benchmark.data import PoolSpec, load_pool
from benchmark.data.dolly import load_dolly
from benchmark.data.flan import load_flan
from benchmark.data.generic import load_generic
from benchmark.data.mmlu import load_mmlu
from benchmark.data.overlap import leakage
from benchmark.data.synthetic import TASKS, load_synthetic


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


DOLLY = [
    {"instruction": "Say hi", "context": "", "response": "hi", "category": "open_qa"},
    {"instruction": "Who won?", "context": "Ann beat Bob.", "response": "Ann", "category": "closed_qa"},
    {"instruction": "Say hi", "context": "", "response": "hi", "category": "open_qa"},
]


def test_dolly_folds_context_into_prompt_and_drops_exact_duplicates(tmp_path):
    file = write_jsonl(tmp_path / "dolly.jsonl", DOLLY)
    loaded = load_pool(PoolSpec("dolly", {"path": str(file)}))
    assert loaded.duplicates_dropped == 1
    assert [ex.prompt for ex in loaded.pool.examples] == ["Say hi", "Who won?\n\nAnn beat Bob."]
    assert loaded.pool.task_counts() == {"closed_qa": 1, "open_qa": 1}


def test_hub_code_path_reads_a_dataset_folder(tmp_path):
    """The hub loaders call datasets.load_dataset, which also takes a local dataset folder: same code path."""
    write_jsonl((tmp_path / "dolly").mkdir() or tmp_path / "dolly" / "train.jsonl", DOLLY[:2])
    assert [ex.task for ex in load_dolly(hub_id=str(tmp_path / "dolly"))] == ["open_qa", "closed_qa"]

    (tmp_path / "flan").mkdir()
    pd.DataFrame(
        {
            "inputs": ["a", "b"],
            "targets": ["x", "y"],
            "task_name": ["t1", "t2"],
            "task_source": ["T0", "Flan"],
        }
    ).to_parquet(tmp_path / "flan" / "train.parquet")
    assert [ex.task for ex in load_flan(hub_id=str(tmp_path / "flan"))] == ["t1", "t2"]
    assert [ex.task for ex in load_flan(hub_id=str(tmp_path / "flan"), task_level="coarse")] == ["T0", "Flan"]

    mmlu = tmp_path / "mmlu"
    (mmlu / "all").mkdir(parents=True)
    pd.DataFrame(
        {
            "question": ["q1", "q2"],
            "subject": ["law", "anatomy"],
            "choices": [list("abcd")] * 2,
            "answer": [0, 3],
        }
    ).to_parquet(mmlu / "all" / "test-00000-of-00001.parquet")
    (mmlu / "README.md").write_text(
        "---\nconfigs:\n- config_name: all\n  data_files:\n  - split: test\n    path: all/test-*\n---\n"
    )
    questions = load_mmlu(hub_id=str(mmlu))
    assert [(q.subject, q.answer_letter) for q in questions] == [("anatomy", "D"), ("law", "A")]


def test_flan_hub_choices_are_read_per_template_at_either_task_level(tmp_path):
    """A coarse task mixes templates; each template's answers make its own choices."""
    (tmp_path / "flan").mkdir()
    pd.DataFrame(
        {
            "inputs": ["a", "b", "c", "d", "e"],
            "targets": ["yes", "no", "yes", "positive", "negative"],
            "task_name": ["qqp_dup", "qqp_dup", "qqp_dup", "qqp_tone", "qqp_tone"],
            "task_source": ["qqp"] * 5,
        }
    ).to_parquet(tmp_path / "flan" / "train.parquet")
    for level in ("fine", "coarse"):
        examples = load_flan(hub_id=str(tmp_path / "flan"), task_level=level)
        assert [ex.choices for ex in examples] == [("no", "yes")] * 3 + [("negative", "positive")] * 2


def test_flan_local_folder_task_levels(tmp_path):
    write_jsonl(tmp_path / "xsum_tldr.jsonl", [{"prompt": "p1", "completion": "c1<|endoftext|>"}])
    write_jsonl(tmp_path / "xsum_summarize_DOC.jsonl", [{"prompt": "p2", "completion": "c2"}])
    write_jsonl(tmp_path / "glue_mrpc_same_thing.jsonl", [{"prompt": "p3", "completion": "c3"}])
    fine = load_flan(path=str(tmp_path))
    assert sorted({ex.task for ex in fine}) == ["glue_mrpc_same_thing", "xsum_summarize_DOC", "xsum_tldr"]
    assert fine[-1].response == "c1"
    coarse = load_flan(path=str(tmp_path), task_level="coarse")
    assert [ex.task for ex in coarse] == ["glue_mrpc", "xsum", "xsum"]
    custom = load_flan(path=str(tmp_path), task_level="coarse", dataset_prefixes=["glue", "xsum"])
    assert [ex.task for ex in custom] == ["glue", "xsum", "xsum"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_generic_table_with_column_mapping(tmp_path, suffix):
    frame = pd.DataFrame(
        {
            "question": ["q1", "q2", "q3"],
            "ctx": ["c1", "", "c3"],
            "answer": ["a1", "a2", "a3"],
            "kind": list("xyx"),
        }
    )
    file = tmp_path / f"data{suffix}"
    {
        ".csv": lambda: frame.to_csv(file, index=False),
        ".parquet": lambda: frame.to_parquet(file),
        ".jsonl": lambda: frame.to_json(file, orient="records", lines=True),
    }[suffix]()
    options = {
        "path": str(file),
        "prompt_column": "question",
        "response_column": "answer",
        "task_column": "kind",
        "input_columns": ["ctx"],
    }
    pool = load_pool(PoolSpec("generic", options)).pool
    assert [ex.prompt for ex in pool.examples] == ["q1\n\nc1", "q2", "q3\n\nc3"]
    assert pool.task_counts() == {"x": 2, "y": 1}
    assert {ex.source for ex in pool.examples} == {"data"}


def test_generic_fixed_task(tmp_path):
    file = write_jsonl(tmp_path / "d.jsonl", [{"prompt": "p", "response": "r"}])
    assert [ex.task for ex in load_generic(path=str(file), task_column=None, task="mine")] == ["mine"]


def test_synthetic_pool_is_task_diverse_and_deterministic():
    examples = load_synthetic(examples_per_task=100)
    assert len(TASKS) >= 12
    assert {ex.task for ex in examples} == set(TASKS)
    assert load_synthetic(examples_per_task=100) == examples
    assert load_synthetic(examples_per_task=100, seed=1) != examples
    assert all(ex.response and len(ex.response) <= 20 for ex in examples)
    assert len({ex.uid for ex in examples}) == len(examples)


def test_synthetic_answers_are_verifiable():
    by_task = {ex.task: ex for ex in load_synthetic(examples_per_task=1)}
    question = by_task["add_large"].prompt.splitlines()[0]
    a, b = (int(x) for x in question.removeprefix("What is ").rstrip("?").split(" + "))
    assert by_task["add_large"].response == str(a + b)
    word = by_task["reverse_word"].prompt.split("'")[1]
    assert by_task["reverse_word"].response == word[::-1]
    assert by_task["parity"].response in {"even", "odd"}


def test_heldout_split_is_disjoint_per_task_and_seeded():
    spec = PoolSpec(options={"examples_per_task": 40}, heldout_per_task=10, seed=3)
    loaded = load_pool(spec)
    assert set(loaded.heldout.task_counts().values()) == {10}
    # the rest of each task, less what shares a held-out example's content (data.overlap)
    assert sum(loaded.pool.task_counts().values()) == 15 * 30 - loaded.overlap_dropped
    assert not set(loaded.pool.uids) & set(loaded.heldout.uids)
    assert leakage(loaded.pool.examples, loaded.heldout.examples).leaked_examples == 0
    assert load_pool(spec).heldout.uids == loaded.heldout.uids
    assert load_pool(
        PoolSpec(options={"examples_per_task": 40}, heldout_per_task=10, seed=4)
    ).heldout.uids != (loaded.heldout.uids)


def test_seeded_caps_per_task_and_in_total():
    spec = PoolSpec(options={"examples_per_task": 50}, max_per_task=20, max_examples=100, seed=1)
    pool = load_pool(spec).pool
    assert len(pool) == 100
    assert max(pool.task_counts().values()) <= 20
    assert load_pool(spec).pool.uids == pool.uids
    full = load_pool(PoolSpec(options={"examples_per_task": 50})).pool
    order = {uid: i for i, uid in enumerate(full.uids)}
    assert [order[u] for u in pool.uids] == sorted(order[u] for u in pool.uids)  # source order kept


def test_task_filter_and_small_tasks_dropped(tmp_path):
    records = [{"prompt": f"p{i}", "response": "r", "task": "big" if i < 5 else "small"} for i in range(6)]
    file = write_jsonl(tmp_path / "d.jsonl", records)
    loaded = load_pool(PoolSpec("generic", {"path": str(file)}, min_per_task=2))
    assert loaded.small_tasks_dropped == ("small",)
    assert loaded.pool.tasks == ("big",)
    only = load_pool(PoolSpec("generic", {"path": str(file)}, tasks=("small",)))
    assert only.pool.task_counts() == {"small": 1}


def test_generic_reads_json_lists_headerless_tsv_and_names_jsonl_under_a_json_name(tmp_path):
    from benchmark.data.generic import load_generic
    from benchmark.errors import DataError

    listed = tmp_path / "items.json"
    listed.write_text(
        '[{"prompt": "p1", "response": "r1", "task": "t"}, {"prompt": "p2", "response": "r2", "task": "t"}]'
    )
    assert [ex.prompt for ex in load_generic(path=str(listed))] == ["p1", "p2"]
    cot = tmp_path / "cot.tsv"
    cot.write_text("What is 2+2?\t4\tmath\nName a colour.\tred\tcolours\n")
    examples = load_generic(path=str(cot), header=["prompt", "response", "task"])
    assert [(ex.prompt, ex.response, ex.task) for ex in examples][1] == ("Name a colour.", "red", "colours")
    with pytest.raises(DataError, match=r"cot\.tsv:1: .*'task'"):  # line 1: no header line
        load_generic(path=str(cot), header=["prompt", "response", "kind"])
    lines = tmp_path / "lines.json"
    lines.write_text(
        '{"prompt": "p", "response": "r", "task": "t"}\n{"prompt": "q", "response": "s", "task": "t"}\n'
    )
    with pytest.raises(DataError, match=r"lines\.json:2: not valid JSON \(Extra data.*name the file \.jsonl"):
        load_generic(path=str(lines))


def test_generic_choices_from_a_column_or_the_task_rule(tmp_path):
    """Classification rows are scored over their choices: given per row (a JSON array in a CSV cell), or
    read off each task's distinct responses (``choices: task``)."""
    from benchmark.data.generic import load_generic
    from benchmark.errors import DataError

    table = tmp_path / "yesno.csv"
    pd.DataFrame(
        {
            "prompt": ["Is ice cold?", "Is fire cold?", "Capital of France?"],
            "response": ["yes", "no", "Paris"],
            "task": ["yesno", "yesno", "geo"],
            "options": ['["yes", "no"]', '["yes", "no"]', '["Paris", "Rome", "Oslo"]'],
        }
    ).to_csv(table, index=False)
    by_column = load_generic(path=str(table), choices_column="options")
    assert [ex.choices for ex in by_column] == [("yes", "no"), ("yes", "no"), ("Paris", "Rome", "Oslo")]
    by_rule = load_generic(path=str(table), choices="task")
    assert [ex.choices for ex in by_rule] == [("no", "yes"), ("no", "yes"), ()]  # geo: one distinct answer
    assert all(ex.choices == () for ex in load_generic(path=str(table)))  # none unless asked
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "p", "response": "maybe", "task": "t", "options": ["yes", "no"]}\n')
    with pytest.raises(DataError, match=r"bad\.jsonl:1: the response 'maybe' is not among its choices"):
        load_generic(path=str(bad), choices_column="options")
    with pytest.raises(DataError, match=r"no column 'opts' \(choices_column\)"):
        load_generic(path=str(bad), choices_column="opts")
    with pytest.raises(DataError, match="choices 'labels': the rule is one of task"):
        load_generic(path=str(bad), choices="labels")
    with pytest.raises(DataError, match="not both"):
        load_generic(path=str(bad), choices="task", choices_column="options")


def test_dolly_choices_rule_makes_few_valued_categories_classifications(tmp_path):
    records = [
        {"instruction": f"Is {x} a fruit?", "context": "", "response": r, "category": "classification"}
        for x, r in (("apple", "Yes"), ("stone", "No"), ("pear", "Yes"))
    ]
    story = {"instruction": "Tell a story", "context": "", "response": "Once", "category": "creative_writing"}
    records.append(story)
    file = write_jsonl(tmp_path / "dolly.jsonl", records)
    assert all(not ex.choices for ex in load_dolly(path=str(file)))
    tasks = {ex.task: ex.choices for ex in load_dolly(path=str(file), choices="task")}
    assert tasks == {"classification": ("No", "Yes"), "creative_writing": ()}


def _niv2_task(folder, name, category, outputs):
    instances = [
        {"id": f"{name}-{i}", "input": f"{name} question {i}", "output": [o]} for i, o in enumerate(outputs)
    ]
    task = {
        "Definition": [f"Answer the {category} question."],
        "Categories": [category],
        "Instances": instances,
    }
    (folder / f"{name}.json").write_text(json.dumps(task))


def test_niv2_task_files_read_as_tasks_with_definitions_and_choices(tmp_path):
    from benchmark.data.niv2 import load_niv2

    _niv2_task(tmp_path, "task001_quoref_answer", "Question Answering", ["Paris", "London", "Rome"])
    _niv2_task(tmp_path, "task002_sentiment", "Sentiment Analysis", ["positive", "negative", "positive"])
    examples = load_niv2(path=str(tmp_path))
    assert {ex.task for ex in examples} == {"task001_quoref_answer", "task002_sentiment"}
    first = examples[0]
    assert first.prompt.startswith("Answer the Question Answering question.")
    assert first.prompt.endswith("task001_quoref_answer question 0")
    assert first.response == "Paris"
    sentiment = [ex for ex in examples if ex.task == "task002_sentiment"]
    assert sentiment[0].choices == ("negative", "positive")
    coarse = load_niv2(path=str(tmp_path), task_level="coarse", limit_per_task=2)
    assert sorted({ex.task for ex in coarse}) == ["Question Answering", "Sentiment Analysis"]
    assert len(coarse) == 4


def test_niv2_errors_name_the_file_and_the_instance(tmp_path):
    from benchmark.data.niv2 import load_niv2
    from benchmark.errors import DataError

    _niv2_task(tmp_path, "task003_empty", "QA", [""])
    with pytest.raises(DataError, match=r"task003_empty\.json instance 0: no reference output"):
        load_niv2(path=str(tmp_path))
    with pytest.raises(DataError, match=r"no task file task9\.json"):
        load_niv2(path=str(tmp_path), tasks=["task9"])
    (tmp_path / "task003_empty.json").write_text('{"Definition": "d"}')
    with pytest.raises(DataError, match="no 'Instances'"):
        load_niv2(path=str(tmp_path))
