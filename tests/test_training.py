import numpy as np
import pytest
import torch

from benchmark.errors import SelbenchError
from benchmark.prompting import PLAIN_TEMPLATE
from benchmark.settings import TrainingConfig
from benchmark.training import IGNORE, CompletionCollator, _keeps_logits, fine_tune, tokenize_for_sft
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


def _tiny_model(kind: str, vocab_size: int = 64):
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    size = {"vocab_size": vocab_size, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2}
    heads = {"num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 8}
    if kind == "gemma3":  # final logit softcapping on, so the cut logits go through it too
        return Gemma3ForCausalLM(Gemma3TextConfig(**size, **heads, final_logit_softcapping=30.0))
    return LlamaForCausalLM(LlamaConfig(**size, **heads))


def _sums(n: int) -> list[Example]:
    return [Example(f"Question {i}: what is {i} plus {i}?", str(2 * i), "add", "s") for i in range(n)]


@pytest.mark.parametrize("kind", ["llama", "gemma3"])
def test_logits_only_at_labelled_positions_give_the_same_loss_and_gradients(kind):
    rows = [
        {"input_ids": [5, 6, 7, 8, 9], "labels": [IGNORE, IGNORE, IGNORE, 8, 9]},
        {"input_ids": [10, 11, 12], "labels": [IGNORE, 11, 12]},
        {"input_ids": [13, 14, 15, 16], "labels": [IGNORE, IGNORE, IGNORE, 16]},
    ]
    model = _tiny_model(kind)
    losses, grads = [], []
    for label_logits_only in (False, True):
        batch = CompletionCollator(pad_id=0, label_logits_only=label_logits_only)(rows)
        model.zero_grad()
        loss = model(**batch).loss
        loss.backward()
        losses.append(loss.detach())
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert batch["logits_to_keep"].nonzero().tolist() == [[0, 2], [0, 3], [1, 0], [1, 1], [2, 2]]
    assert batch["shift_labels"].tolist() == [8, 9, 11, 12, 16]
    torch.testing.assert_close(losses[1], losses[0])
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], msg=name)


def test_trainer_steps_are_the_same_with_logits_only_at_labelled_positions(tmp_path):
    """Through Trainer and peft: the loss normalisation (``num_items_in_batch``) counts the same tokens."""
    examples = _sums(12)
    config = TrainingConfig(epochs=1, min_steps=3, batch_size=4, max_length=64, save_model=False, seed=1)
    curves = []
    for label_logits_only in (False, True):
        collator = CompletionCollator(pad_id=0, label_logits_only=label_logits_only)
        result = fine_tune(
            _tiny_model("llama", 128),
            CharTokenizer(),
            examples,
            config,
            tmp_path,
            progress=False,
            collator=collator,
        )
        curves.append([entry["loss"] for entry in result.loss_curve])
    assert len(curves[0]) == 3
    assert curves[1] == pytest.approx(curves[0], rel=1e-5)


def test_a_model_without_logits_to_keep_is_trained_with_every_logit(tmp_path):
    """A model with its own ``forward`` (no ``logits_to_keep``) still trains through ``fine_tune``: its
    collator leaves the mask out, which the model's signature would reject."""

    class OwnCode(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = _tiny_model("llama", 128)

        def forward(self, input_ids, attention_mask=None, labels=None):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, labels=labels)

    assert _keeps_logits(_tiny_model("llama"))
    assert not _keeps_logits(OwnCode())
    examples = _sums(8)
    config = TrainingConfig(
        method="full", epochs=1, min_steps=2, batch_size=4, max_length=64, save_model=False, seed=1
    )
    result = fine_tune(OwnCode(), CharTokenizer(), examples, config, tmp_path, progress=False)
    assert result.steps == 2
    assert np.isfinite(result.final_loss)
