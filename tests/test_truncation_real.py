"""Cut prompts keep their instruction: real Dolly records, the real default tokenizer and chat template."""

import pytest

from benchmark.data.dolly import load_dolly
from benchmark.models import ModelSpec, load_tokenizer, resolve_model
from benchmark.prompting import template_ends, tokenize_prompts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(resolve_model(ModelSpec.default()))


@pytest.mark.parametrize("limit", [96, 256])
def test_dolly_instructions_survive_the_cut(tokenizer, data_dir, limit):
    examples = load_dolly(path=str(data_dir / "dolly_sample" / "databricks-dolly-15k.head577.jsonl"))
    with_context = [ex for ex in examples if "\n\n" in ex.prompt]
    tokens = tokenize_prompts(tokenizer, [ex.prompt for ex in with_context], limit)
    assert tokens.truncated > 0
    before, after = template_ends(tokenizer)
    room = limit - len(before) - len(after)
    fits = 0
    for ex, ids in zip(with_context, tokens.ids, strict=True):
        assert len(ids) <= limit
        instruction = ex.prompt.split("\n\n", 1)[0]
        if len(tokenizer(instruction, add_special_tokens=False)["input_ids"]) <= room - room // 4:
            fits += 1
            assert instruction in tokenizer.decode(ids)
    assert fits >= 0.9 * len(with_context)  # almost every instruction fits; those are all kept
