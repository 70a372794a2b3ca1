"""MMLU scored natively: the lm-eval prompt, evaluated with fewer model passes.

The few-shot prefix of a subject (its description and dev examples) is computed once and its KV cache
reused by every question of the subject. Each question then costs one pass over its own tokens:
``letter`` compares the log-probabilities of the four answer letters at the last position; ``cloze``
scores the four answer continuations from the question's KV cache instead of four full passes.
A question whose tokens do not start with the prefix's tokens (a merge across the boundary) is
computed without the shared prefix, so the result never depends on the sharing.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from benchmark.errors import SelbenchError
from benchmark.evaluation.base import EvalResult, register_evaluator
from benchmark.evaluation.mmlu_base import MMLUEvaluator
from benchmark.evaluation.mmlu_prompts import EncodedQuestion, encode_question, few_shot_prefix
from benchmark.prompting import left_pad, length_batches
from benchmark.types import Pool


def _right_pad(rows: list[list[int]], pad_id: int, device: Any) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids.to(device), mask.to(device)


@torch.inference_mode()
def choice_logprobs(
    model: Any,
    tokenizer: Any,
    prefix: list[int],
    questions: list[EncodedQuestion],
    *,
    letter: bool,
    batch_size: int,
    progress: Any = None,
) -> np.ndarray:
    """(Q, C) summed log-probabilities of each answer continuation; every question's context is
    ``prefix`` + its own tokens, and the prefix is computed once. ``progress``: a tqdm bar advanced by
    the questions of each batch."""
    device, pad = model.device, tokenizer.pad_token_id
    n_choices = len(questions[0].continuations)
    prefix_cache = model(torch.tensor([prefix], device=device), use_cache=True).cache if prefix else None
    suffixes = [q.context[len(prefix) :] for q in questions]
    out = np.empty((len(questions), n_choices))
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
            tokens = torch.tensor([[c[0] for c in questions[i].continuations] for i in batch], device=device)
            out[batch] = last.gather(1, tokens).cpu().numpy()
        else:  # cloze: score every continuation from the question's KV cache
            cache = step.cache
            cache.batch_repeat_interleave(n_choices)
            cont_ids, cont_mask = _right_pad(
                [c for i in batch for c in questions[i].continuations], pad, device
            )
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


def shared_prefixes(
    tokenizer: Any, test: list, shots: dict, fmt: str, encoded: list[EncodedQuestion]
) -> dict:
    """Question indices grouped by the token prefix they share: the subject's few-shot prefix, or none."""
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    prefix_tokens: dict[str, tuple[int, ...]] = {}
    for i, (q, e) in enumerate(zip(test, encoded, strict=True)):
        if q.subject not in prefix_tokens:
            head = few_shot_prefix(q.subject, shots[q.subject], fmt)
            prefix_tokens[q.subject] = tuple(tokenizer(head, add_special_tokens=False)["input_ids"])
        prefix = prefix_tokens[q.subject]
        shared = len(prefix) < len(e.context) and tuple(e.context[: len(prefix)]) == prefix
        groups[prefix if shared else ()].append(i)
    return groups


@register_evaluator("mmlu_native")
class MMLUNative(MMLUEvaluator):
    """MMLU with lm-eval's prompts (letter or cloze), scored natively and fast."""

    def evaluate(self, model: Any, tokenizer: Any, *, heldout: Pool | None = None) -> EvalResult:
        test, shots = self.questions()
        encoded = [encode_question(tokenizer, q, shots[q.subject], self.format) for q in test]
        letter = self.format == "letter"
        if letter and not all(len(c) == 1 for e in encoded for c in e.continuations):
            raise SelbenchError("MMLU letter format: the tokenizer splits ' A'..' D' into several tokens.")
        logprobs = np.empty((len(test), len(encoded[0].continuations)))
        groups = shared_prefixes(tokenizer, test, shots, self.format, encoded)
        with tqdm(total=len(test), desc="mmlu", unit="question", disable=not self.progress) as bar:
            for prefix, members in groups.items():
                logprobs[members] = choice_logprobs(
                    model,
                    tokenizer,
                    list(prefix),
                    [encoded[i] for i in members],
                    letter=letter,
                    batch_size=self.batch_size,
                    progress=bar,
                )
        return self.result(test, logprobs.argmax(1).tolist(), shared_prefix_groups=len(groups))
