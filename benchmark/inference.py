"""Batched model passes shared by scoring and evaluation: greedy answers and scored continuations.

Sequences are sorted by length and left-padded per batch (``prompting.length_batches``/``left_pad``);
everything runs under ``torch.inference_mode`` with the KV cache, and logits are kept only for the
positions that are scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from benchmark.prompting import left_pad, length_batches


@dataclass(frozen=True)
class TokenScores:
    """Per sequence: summed log-probability, mean probability and mean entropy (nats) of its scored tokens."""

    sum_logprob: np.ndarray
    mean_prob: np.ndarray
    mean_entropy: np.ndarray


@dataclass(frozen=True)
class Generation:
    tokens: list[list[int]]  # greedy answer tokens, up to and including the first EOS
    scores: TokenScores


def eos_ids(model: Any, tokenizer: Any) -> list[int]:
    eos = model.generation_config.eos_token_id
    eos = eos if eos is not None else tokenizer.eos_token_id
    return list(eos) if isinstance(eos, list | tuple) else [eos]


def _reduce(logp: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor) -> tuple[np.ndarray, ...]:
    """(sum log p, mean p, mean entropy) over the ``valid`` positions of each row."""
    token_logp = logp.gather(-1, targets[..., None])[..., 0]
    entropy = -(logp.exp() * logp).sum(-1)
    count = valid.sum(1)
    out = (
        (token_logp * valid).sum(1),
        (token_logp.exp() * valid).sum(1) / count,
        (entropy * valid).sum(1) / count,
    )
    return tuple(t.cpu().numpy().astype(np.float64) for t in out)


@torch.inference_mode()
def greedy_generate(
    model: Any,
    tokenizer: Any,
    prompt_ids: Sequence[Sequence[int]],
    *,
    max_new_tokens: int,
    batch_size: int,
    progress: bool = False,
) -> Generation:
    """Greedy answers to token-id prompts, with the scores of the generated tokens."""
    from transformers import GenerationConfig

    eos = eos_ids(model, tokenizer)
    config = GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=False,
        eos_token_id=eos,
        pad_token_id=tokenizer.pad_token_id,
        output_logits=True,
        return_dict_in_generate=True,
    )
    n = len(prompt_ids)
    tokens: list[list[int]] = [[] for _ in range(n)]
    stats = np.empty((3, n))
    batches = list(length_batches([len(s) for s in prompt_ids], batch_size))
    for batch in tqdm(batches, desc="generate", unit="batch", disable=not progress):
        inputs = left_pad([prompt_ids[i] for i in batch], tokenizer.pad_token_id, model.device)
        out = model.generate(
            input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], generation_config=config
        )
        generated = out.sequences[:, inputs["input_ids"].shape[1] :]
        logp = torch.log_softmax(torch.stack(out.logits, dim=1).float(), dim=-1)
        is_eos = torch.isin(generated, torch.tensor(eos, device=generated.device)).int()
        valid = ((is_eos.cumsum(1) - is_eos) == 0).float()  # tokens before and at the first EOS
        stats[:, batch] = _reduce(logp, generated, valid)
        for row, i in enumerate(batch):
            tokens[i] = generated[row, : int(valid[row].sum())].tolist()
    return Generation(tokens, TokenScores(*stats))


@torch.inference_mode()
def score_continuations(
    model: Any,
    tokenizer: Any,
    contexts: Sequence[Sequence[int]],
    continuations: Sequence[Sequence[int]],
    *,
    batch_size: int,
    progress: bool = False,
) -> TokenScores:
    """Teacher-forced scores of each continuation after its context; logits only where they are scored."""
    sequences = [list(c) + list(x) for c, x in zip(contexts, continuations, strict=True)]
    stats = np.empty((3, len(sequences)))
    batches = list(length_batches([len(s) for s in sequences], batch_size))
    for batch in tqdm(batches, desc="score", unit="batch", disable=not progress):
        inputs = left_pad([sequences[i] for i in batch], tokenizer.pad_token_id, model.device)
        lengths = torch.tensor([len(continuations[i]) for i in batch], device=model.device)
        keep = int(lengths.max()) + 1
        logp = torch.log_softmax(model(**inputs, logits_to_keep=keep).logits[:, :-1].float(), dim=-1)
        targets = inputs["input_ids"][:, -(keep - 1) :]
        column = torch.arange(keep - 1, device=model.device)
        valid = (column[None, :] >= (keep - 1 - lengths)[:, None]).float()
        stats[:, batch] = _reduce(logp, targets, valid)
    return TokenScores(*stats)
