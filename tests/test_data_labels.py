from benchmark.data import PoolSpec, load_pool
from benchmark.data.labels import with_choices
from benchmark.types import Example


def examples(rows):
    return [
        Example(f"{group} {i}", answer, "t", "s", template=group) for i, (group, answer) in enumerate(rows)
    ]


def test_choices_are_the_distinct_answers_of_a_classification_template():
    rows = [("tone", "Positive"), ("tone", "Negative"), ("tone", "Positive"), ("topic", "Company")] * 2
    rows += [("qa", f"answer {i}") for i in range(12)]
    out = with_choices(examples(rows))
    by_group = {group: ex.choices for (group, _), ex in zip(rows, out, strict=True)}
    # one answer is no choice; twelve distinct answers are open text
    assert by_group == {"tone": ("Negative", "Positive"), "topic": (), "qa": ()}
    assert [ex.uid for ex in out] == [ex.uid for ex in examples(rows)]  # choices do not change identity


def test_flan_templates_carry_their_choices(data_dir):
    loaded = load_pool(
        PoolSpec("flan", {"path": str(data_dir / "flan_t0"), "task_level": "coarse"}, max_per_task=40)
    )
    choices = {ex.task: set() for ex in loaded.pool.examples}
    for ex in loaded.pool.examples:
        choices[ex.task].add(ex.choices)
        assert not ex.choices or ex.response in ex.choices
    assert ("1 star", "2 stars", "3 stars", "4 stars", "5 stars") in choices["yelp_review_full"]
    assert choices["dbpedia_14"] == {()}  # every dbpedia answer in this slice is "Company": no choice
    assert "trec" not in choices  # the slice's trec templates have empty completions: left out


def test_synthetic_classification_tasks_carry_their_choices():
    pool = load_pool(PoolSpec(options={"examples_per_task": 5})).pool
    choices = {ex.task: ex.choices for ex in pool.examples}
    assert choices["parity"] == ("even", "odd")
    assert choices["copy_word"] == ()


def test_near_constant_templates_are_found_only_with_enough_examples():
    from benchmark.data.pools import constant_templates

    rows = [("imdb", "negative")] * 9 + [("imdb", "positive")]  # 90 % one answer
    rows += [("tone", "yes"), ("tone", "no")] * 5  # balanced
    rows += [("tiny", "yes")] * 9  # one answer, but too few examples to judge
    found = constant_templates(examples(rows), 0.9)
    assert found == ("imdb",)
    assert constant_templates(examples(rows), None) == ()
    assert constant_templates(examples(rows), 0.95) == ()
