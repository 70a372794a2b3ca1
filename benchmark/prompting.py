"""One prompt format for scoring, training and evaluation, and the batching every model pass shares.

Chat models get their chat template (one user turn, then the assistant header); models without one get
a plain instruction/response layout. The response a model is trained on ends with the EOS token, so a
fine-tuned model learns to stop.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

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


def tokenize_prompts(tokenizer: Any, prompts: Sequence[str], max_tokens: int) -> list[list[int]]:
    """Token ids of each formatted prompt, cut from the left to ``max_tokens`` so the end (the question
    and the generation header) is kept."""
    texts = [format_prompt(tokenizer, p) for p in prompts]
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    return [seq[-max_tokens:] for seq in ids]


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
