"""Batched model passes shared by scoring and evaluation: greedy answers and scored continuations.

Sequences are sorted by length and left-padded per batch (``prompting.length_batches``/``left_pad``);
everything runs under ``torch.inference_mode`` with the KV cache, and logits are kept only for the
positions that are scored.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from benchmark.prompting import left_pad, length_batches


@dataclass(frozen=True)
class TokenScores:
    """Per sequence: summed log-probability, mean probability and mean entropy (nats) of its scored
    tokens; for teacher-forced continuations also whether each scored token was the model's most likely
    one (then greedy decoding would have produced the continuation exactly)."""

    sum_logprob: np.ndarray
    mean_prob: np.ndarray
    mean_entropy: np.ndarray
    greedy: np.ndarray | None = None


@dataclass(frozen=True)
class Choices:
    """A context and the continuations to score after it (answer options, labels), as token ids."""

    context: list[int]
    continuations: list[list[int]]


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
    greedy = np.empty(len(sequences), dtype=bool)
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
        greedy[batch] = ((logp.argmax(-1) == targets) | (valid == 0)).all(1).cpu().numpy()
    return TokenScores(*stats, greedy=greedy)


def _right_pad(rows: list[list[int]], pad_id: int, device: Any) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids.to(device), mask.to(device)


@torch.inference_mode()
def score_choices(
    model: Any,
    tokenizer: Any,
    prefix: list[int],
    items: Sequence[Choices],
    *,
    letter: bool,
    batch_size: int,
    progress: Any = None,
) -> np.ndarray:
    """(Q, C) summed log-probabilities of each item's C continuations after its context, which starts
    with ``prefix`` (computed once, its KV cache shared). The context costs one pass; ``letter``
    (single-token continuations) reads them off its last position, otherwise every continuation is
    scored from the context's KV cache instead of a pass over context + continuation. ``progress``: a
    tqdm bar advanced by the items of each batch."""
    device, pad = model.device, tokenizer.pad_token_id
    n_choices = len(items[0].continuations)
    prefix_cache = model(torch.tensor([prefix], device=device), use_cache=True).cache if prefix else None
    suffixes = [q.context[len(prefix) :] for q in items]
    out = np.empty((len(items), n_choices))
    for batch in length_batches([len(s) for s in suffixes], batch_size):
        inputs = left_pad([suffixes[i] for i in batch], pad, device)
        ids, suffix_mask = inputs["input_ids"], inputs["attention_mask"]
        cache = None
        mask = suffix_mask
        if prefix_cache is not None:
            cache = copy.deepcopy(prefix_cache)
            cache.batch_repeat_interleave(len(batch))
            mask = torch.cat(
                [torch.ones((len(batch), len(prefix)), dtype=torch.long, device=device), suffix_mask], 1
            )
        positions = len(prefix) + (suffix_mask.cumsum(1) - 1).clamp(min=0)
        step = model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=not letter,
            logits_to_keep=1,
        )
        last = torch.log_softmax(step.logits[:, -1].float(), dim=-1)
        if letter:  # single-token continuations: read them off the last position
            tokens = torch.tensor([[c[0] for c in items[i].continuations] for i in batch], device=device)
            out[batch] = last.gather(1, tokens).cpu().numpy()
        else:  # cloze: score every continuation from the question's KV cache
            cache = step.cache
            cache.batch_repeat_interleave(n_choices)
            cont_ids, cont_mask = _right_pad([c for i in batch for c in items[i].continuations], pad, device)
            seen = mask.repeat_interleave(n_choices, 0)
            start = len(prefix) + suffix_mask.sum(1, keepdim=True).repeat_interleave(n_choices, 0)
            positions = start + torch.arange(cont_ids.shape[1], device=device)[None, :]
            logits = model(
                input_ids=cont_ids,
                attention_mask=torch.cat([seen, cont_mask], 1),
                position_ids=positions,
                cache=cache,
            ).logits.float()
            predicted = torch.cat(
                [last.repeat_interleave(n_choices, 0)[:, None], torch.log_softmax(logits[:, :-1], -1)], 1
            )
            token_logp = predicted.gather(-1, cont_ids[..., None])[..., 0] * cont_mask
            out[batch] = token_logp.sum(1).view(len(batch), n_choices).cpu().numpy()
        if progress is not None:
            progress.update(len(batch))
    return out
