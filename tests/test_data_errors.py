"""Every bad-input case of the data layer gives a DataError naming the file, line or field and the fix."""

import json
import re

import pytest

from benchmark.data import PoolSpec, load_pool
from benchmark.data.mmlu import few_shot_examples, load_mmlu
from benchmark.errors import DataError, SelbenchError


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def dolly_line(**fields):
    record = {"instruction": "i", "context": "", "response": "r", "category": "c"} | fields
    return json.dumps({k: v for k, v in record.items() if v is not None}) + "\n"


def load(source, **options):
    return load_pool(PoolSpec(source, options))


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(DataError, match=f"{re.escape(str(missing))}: no such file .*Fix the path"):
        load("dolly", path=str(missing))


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        load("flan", path=str(tmp_path / "nope"))


def test_file_where_a_folder_is_needed(tmp_path):
    with pytest.raises(DataError, match="is a file, but FLAN folder must be a folder"):
        load("flan", path=write(tmp_path / "x.jsonl", ""))


def test_empty_flan_folder(tmp_path):
    with pytest.raises(DataError, match=r"no \*\.jsonl files"):
        load("flan", path=str(tmp_path))


def test_flan_records_without_a_completion_are_left_out(tmp_path, caplog):
    def line(prompt, completion):
        return json.dumps({"prompt": prompt, "completion": completion + "<|endoftext|>"}) + "\n"

    write(tmp_path / "imdb_a.jsonl", line("p1", "positive") + line("p2", "") + line("p3", "negative"))
    write(tmp_path / "trec_b.jsonl", line("q1", "") + line("q2", " "))
    pool = load("flan", path=str(tmp_path), task_level="coarse").pool
    assert [(ex.prompt, ex.task) for ex in pool.examples] == [("p1", "imdb"), ("p3", "imdb")]
    assert "3 records with an empty completion left out (imdb_a.jsonl: 1, trec_b.jsonl: 2)" in caplog.text


def test_malformed_json_line_names_file_and_line(tmp_path):
    path = write(tmp_path / "d.jsonl", dolly_line() + "\n" + '{"instruction": "i", \n')
    with pytest.raises(DataError, match=r"d\.jsonl:3: not valid JSON .*Fix or remove that line"):
        load("dolly", path=path)


def test_json_line_that_is_not_an_object(tmp_path):
    with pytest.raises(DataError, match=r"d\.jsonl:1: a JSON list, expected an object"):
        load("dolly", path=write(tmp_path / "d.jsonl", "[1, 2]\n"))


def test_missing_field_is_named_with_the_fields_present(tmp_path):
    path = write(tmp_path / "d.jsonl", dolly_line() + dolly_line(category=None))
    with pytest.raises(
        DataError,
        match=r"d\.jsonl:2: missing field 'category'; the record has: context, instruction, response",
    ):
        load("dolly", path=path)


def test_empty_or_non_text_field(tmp_path):
    with pytest.raises(DataError, match=r"d\.jsonl:1: field 'response' is empty"):
        load("dolly", path=write(tmp_path / "d.jsonl", dolly_line(response="  ")))
    with pytest.raises(DataError, match=r"field 'instruction' is int, expected text"):
        load("dolly", path=write(tmp_path / "e.jsonl", dolly_line(instruction=3)))


def test_missing_column_in_csv_lists_the_columns(tmp_path):
    path = write(tmp_path / "t.csv", "question,answer,task\nq,a,t\n")
    with pytest.raises(
        DataError, match=r"t\.csv:2: missing field 'prompt'; the record has: answer, question, task"
    ):
        load("generic", path=path)


def test_unknown_file_type(tmp_path):
    with pytest.raises(DataError, match=r"unknown file type '\.txt'"):
        load("generic", path=write(tmp_path / "t.txt", "x"))


def test_generic_needs_a_task(tmp_path):
    with pytest.raises(DataError, match=r"set task_column .* or task"):
        load("generic", path=write(tmp_path / "t.csv", "prompt,response\np,r\n"), task_column=None)


def test_unknown_source_name_suggests_a_close_one():
    with pytest.raises(SelbenchError, match=r"unknown pool source 'doly'\. Did you mean 'dolly'\?"):
        load("doly")


def test_unknown_and_missing_source_options():
    with pytest.raises(DataError, match=r"no option 'examples_per_tsk'\. Did you mean 'examples_per_task'\?"):
        load("synthetic", examples_per_tsk=3)
    with pytest.raises(DataError, match="pool source 'generic' needs the option 'path'"):
        load("generic")


def test_bad_option_values():
    with pytest.raises(DataError, match="task_level='dataset': use one of fine, coarse"):
        load("flan", path=".", task_level="dataset")
    with pytest.raises(DataError, match="unknown task 'adition'"):
        load("synthetic", tasks=["adition"])
    with pytest.raises(DataError, match="heldout_per_task=-1: must be an integer of at least 0"):
        load_pool(PoolSpec(heldout_per_task=-1))


def test_empty_pool(tmp_path):
    with pytest.raises(DataError, match="empty after filtering"):
        load("dolly", path=write(tmp_path / "d.jsonl", "\n\n"))


def test_task_with_no_examples_after_filtering(tmp_path):
    spec = PoolSpec(options={"examples_per_task": 5}, tasks=("parity", "copy_word"), heldout_per_task=5)
    with pytest.raises(
        DataError, match=r"'copy_word' has 5 examples, fewer than min_per_task \+ heldout_per_task = 6"
    ):
        load_pool(spec)
    with pytest.raises(DataError, match=r"'parit' has no examples .*Did you mean 'parity'"):
        load_pool(PoolSpec(tasks=("parit",)))


def test_mmlu_errors(tmp_path, data_dir):
    with pytest.raises(DataError, match="no such folder"):
        load_mmlu(path=tmp_path)
    with pytest.raises(DataError, match=r"unknown MMLU subject 'anatomyy'\. Did you mean 'anatomy'"):
        load_mmlu(path=data_dir / "mmlu", subjects=["anatomyy"])
    with pytest.raises(DataError, match="MMLU split 'train'"):
        load_mmlu(path=data_dir / "mmlu", split="train")
    (tmp_path / "test").mkdir()
    write(tmp_path / "test" / "law_test.csv", "q,a,b,c,d,E\n")
    with pytest.raises(DataError, match=r"law_test\.csv record 1: answer 'E' is not one of A, B, C, D"):
        load_mmlu(path=tmp_path)
    with pytest.raises(DataError, match="k=6: must be between 0 and 5"):
        few_shot_examples([], "law", 6)
