import pytest
import torch

from benchmark.errors import SelbenchError
from benchmark.prompting import PLAIN_TEMPLATE
from benchmark.settings import TrainingConfig
from benchmark.training import IGNORE, CompletionCollator, tokenize_for_sft
from benchmark.types import Example
from tests.fake_tokenizer import CharTokenizer


def test_loss_only_on_response_tokens_token_by_token():
    tok = CharTokenizer()
    rows = tokenize_for_sft(tok, [Example("hi", "yo", "t", "s")], max_length=256).rows
    prompt = PLAIN_TEMPLATE.format(prompt="hi")
    ids, labels = rows[0]["input_ids"], rows[0]["labels"]
    assert tok.decode(ids) == prompt + "yo" + tok.eos_token
    for i, (token, label) in enumerate(zip(ids, labels, strict=True)):
        assert label == (IGNORE if i < len(prompt) else token)


def test_long_examples_keep_the_instruction_the_question_and_the_response_start():
    tok = CharTokenizer()
    prompt = "INSTRUCTION: summarise.\n\n" + "x" * 500 + "QUESTION"
    sft = tokenize_for_sft(tok, [Example(prompt, "r" * 300, "t", "s")], max_length=192)
    ids, labels = sft.rows[0]["input_ids"], sft.rows[0]["labels"]
    assert len(ids) == 192
    text = tok.decode(ids)
    assert "INSTRUCTION: summarise." in text  # the middle of the prompt is cut, never its start
    assert "QUESTION" in text  # nor its end
    assert text.startswith("### Instruction:\n")
    assert "### Response:\n" in text
    assert sum(label != IGNORE for label in labels) == 96  # the response keeps half of max_length
    assert text.endswith("r" * 96)
    assert (sft.prompts_cut, sft.responses_cut) == (1, 1)


def test_a_dolly_style_instruction_survives_whenever_it_fits():
    from benchmark.prompting import tokenize_prompts

    tok = CharTokenizer()
    instruction = "Summarise the passage in one line."  # the first paragraph, as dolly.join_prompt lays out
    prompt = f"{instruction}\n\n" + "context " * 100
    for limit in (100, 256):
        cut = tok.decode(tokenize_prompts(tok, [prompt], limit).ids[0])
        assert len(cut) == limit
        assert instruction in cut
        assert cut.endswith("context \n\n### Response:\n")


def test_short_examples_are_not_cut():
    sft = tokenize_for_sft(CharTokenizer(), [Example("hi", "yo", "t", "s")], max_length=64)
    assert (sft.prompts_cut, sft.responses_cut) == (0, 0)


def test_a_limit_below_the_prompt_format_is_a_clear_error():
    with pytest.raises(SelbenchError, match="prompt format alone takes"):
        tokenize_for_sft(CharTokenizer(), [Example("x" * 100, "r" * 100, "t", "s")], max_length=40)


def test_collator_pads_to_the_batch_not_to_max_length():
    rows = [{"input_ids": [5, 6, 7], "labels": [IGNORE, 6, 7]}, {"input_ids": [8], "labels": [8]}]
    collator = CompletionCollator(pad_id=0)
    batch = collator(rows)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["labels"].tolist() == [[IGNORE, 6, 7], [8, IGNORE, IGNORE]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert collator.tokens == 4
    assert CompletionCollator(pad_id=0, pad_to=6)(rows)["input_ids"].shape == torch.Size([2, 6])


@pytest.mark.parametrize(("field", "value"), [("method", "qlora"), ("batch_size", 0), ("learning_rate", 0.0)])
def test_config_errors(field, value):
    with pytest.raises(SelbenchError):
        TrainingConfig(**{field: value})
