"""One prompt format for scoring, training and evaluation, and the batching every model pass shares.

Chat models get their chat template (one user turn, then the assistant header); models without one get
a plain instruction/response layout. The response a model is trained on ends with the EOS token, so a
fine-tuned model learns to stop.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from benchmark.errors import SelbenchError

PLAIN_TEMPLATE = "### Instruction:\n{prompt}\n\n### Response:\n"


def format_prompt(tokenizer: Any, prompt: str) -> str:
    """The text a model sees before its answer."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
    return PLAIN_TEMPLATE.format(prompt=prompt)


def format_response(tokenizer: Any, response: str) -> str:
    """The answer text as the model should produce it, ending with EOS."""
    return response + tokenizer.eos_token


@dataclass(frozen=True)
class PromptTokens:
    """Token ids of formatted prompts and how many had to be cut to fit."""

    ids: list[list[int]]
    truncated: int


PROMPT_SLOT = "\x00PROMPT\x00"


def template_ends(tokenizer: Any) -> tuple[list[int], list[int]]:
    """Token ids of the prompt format before and after the prompt text (chat header, response header)."""
    before, after = format_prompt(tokenizer, PROMPT_SLOT).split(PROMPT_SLOT)
    encode = tokenizer([before, after], add_special_tokens=False)["input_ids"]
    return encode[0], encode[1]


def _head_length(tokenizer: Any, prompt: str, room: int) -> int:
    """How many leading tokens of a cut prompt to keep: half the room, or its whole first paragraph (the
    instruction, in the ``instruction\n\ncontext`` layout) when that fits in three quarters of it."""
    first = prompt.split("\n\n", 1)[0]
    first_tokens = len(tokenizer(first, add_special_tokens=False)["input_ids"]) if first != prompt else room
    return max((room + 1) // 2, min(first_tokens, room - room // 4))


def tokenize_prompts(tokenizer: Any, prompts: Sequence[str], max_tokens: int | Sequence[int]) -> PromptTokens:
    """Token ids of each formatted prompt, at most ``max_tokens`` (one limit, or one per prompt). A longer
    prompt loses the middle of its text: its start (the instruction: its whole first paragraph where it
    fits), its end (the question) and the format around it (the chat and response headers) are kept, so
    a cut prompt still asks the same task."""
    limits = [max_tokens] * len(prompts) if isinstance(max_tokens, int) else list(max_tokens)
    ids = tokenizer([format_prompt(tokenizer, p) for p in prompts], add_special_tokens=False)["input_ids"]
    long = [i for i, seq in enumerate(ids) if len(seq) > limits[i]]
    if long:
        before, after = template_ends(tokenizer)
        bodies = tokenizer([prompts[i] for i in long], add_special_tokens=False)["input_ids"]
        for i, body in zip(long, bodies, strict=True):
            room = limits[i] - len(before) - len(after)
            if room < 2:
                raise SelbenchError(
                    f"a prompt limit of {limits[i]} tokens leaves no room for the prompt: the prompt format "
                    f"alone takes {len(before) + len(after)} tokens. Raise max_prompt_tokens or max_length."
                )
            head = _head_length(tokenizer, prompts[i], room)
            ids[i] = before + body[:head] + body[len(body) - (room - head) :] + after
    return PromptTokens(ids, len(long))


def length_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Indices grouped into batches of similar length (sorted, stable), so padding per batch is small."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def left_pad(
    sequences: Sequence[Sequence[int]], pad_id: int, device: str | torch.device
) -> dict[str, torch.Tensor]:
    """input_ids, attention_mask and position_ids with sequences right-aligned, so generation and the
    last positions line up across a batch. Positions count real tokens only: padding changes nothing."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        if len(seq):
            ids[row, width - len(seq) :] = torch.tensor(seq, dtype=torch.long)
            mask[row, width - len(seq) :] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return {
        "input_ids": ids.to(device),
        "attention_mask": mask.to(device),
        "position_ids": positions.to(device),
    }
