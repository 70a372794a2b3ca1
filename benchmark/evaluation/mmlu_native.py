"""MMLU scored natively: the lm-eval prompt, evaluated with fewer model passes.

``letter``: one forward pass per question, comparing the log-probabilities of the four answer letters at
the last position. ``cloze``: the question prompt is run once and the four answer continuations are
scored from its KV cache, instead of four full passes. Batched, with contexts sorted by length.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from benchmark.errors import SelbenchError
from benchmark.evaluation.base import EvalResult, register_evaluator
from benchmark.evaluation.mmlu_base import MMLUEvaluator
from benchmark.evaluation.mmlu_prompts import EncodedQuestion, encode_question
from benchmark.prompting import left_pad, length_batches
from benchmark.types import Pool


@torch.inference_mode()
def letter_logprobs(
    model: Any, tokenizer: Any, encoded: list[EncodedQuestion], batch_size: int, progress: bool = False
) -> np.ndarray:
    """(Q, 4) log-probabilities of single-token continuations at the last context position."""
    out = np.empty((len(encoded), len(encoded[0].continuations)))
    for batch in tqdm(
        list(length_batches([len(e.context) for e in encoded], batch_size)), desc="mmlu", disable=not progress
    ):
        inputs = left_pad([encoded[i].context for i in batch], tokenizer.pad_token_id, model.device)
        logp = torch.log_softmax(model(**inputs, logits_to_keep=1).logits[:, -1].float(), dim=-1)
        tokens = torch.tensor([[c[0] for c in encoded[i].continuations] for i in batch], device=model.device)
        out[batch] = logp.gather(1, tokens).cpu().numpy()
    return out


@torch.inference_mode()
def cloze_logprobs(
    model: Any, tokenizer: Any, encoded: list[EncodedQuestion], batch_size: int, progress: bool = False
) -> np.ndarray:
    """(Q, C) summed log-probabilities of each continuation, the context computed once per question."""
    n_choices = len(encoded[0].continuations)
    out = np.empty((len(encoded), n_choices))
    for batch in tqdm(
        list(length_batches([len(e.context) for e in encoded], batch_size)), desc="mmlu", disable=not progress
    ):
        ctx = left_pad([encoded[i].context for i in batch], tokenizer.pad_token_id, model.device)
        first = model(**ctx, use_cache=True, logits_to_keep=1)
        first_logp = torch.log_softmax(first.logits[:, -1].float(), dim=-1).repeat_interleave(n_choices, 0)
        cache = first.past_key_values
        cache.batch_repeat_interleave(n_choices)
        conts = [c for i in batch for c in encoded[i].continuations]
        width = max(len(c) for c in conts)
        ids = torch.full((len(conts), width), tokenizer.pad_token_id, dtype=torch.long, device=model.device)
        mask = torch.zeros((len(conts), width), dtype=torch.long, device=model.device)
        for row, c in enumerate(conts):
            ids[row, : len(c)] = torch.tensor(c, device=model.device)
            mask[row, : len(c)] = 1
        ctx_mask = ctx["attention_mask"].repeat_interleave(n_choices, 0)
        start = ctx_mask.sum(1, keepdim=True)
        positions = start + torch.arange(width, device=model.device)[None, :]
        logits = model(
            input_ids=ids,
            attention_mask=torch.cat([ctx_mask, mask], 1),
            position_ids=positions,
            past_key_values=cache,
        ).logits.float()
        predicted = torch.cat([first_logp[:, None], torch.log_softmax(logits[:, :-1], dim=-1)], dim=1)
        token_logp = predicted.gather(-1, ids[..., None])[..., 0] * mask
        out[batch] = token_logp.sum(1).view(len(batch), n_choices).cpu().numpy()
    return out


@register_evaluator("mmlu_native")
class MMLUNative(MMLUEvaluator):
    """MMLU with lm-eval's prompts (letter or cloze), scored natively and fast."""

    def evaluate(self, model: Any, tokenizer: Any, *, heldout: Pool | None = None) -> EvalResult:
        test, shots = self.questions()
        encoded = [encode_question(tokenizer, q, shots[q.subject], self.format) for q in test]
        single_token = all(len(c) == 1 for e in encoded for c in e.continuations)
        if self.format == "letter" and not single_token:
            raise SelbenchError("MMLU letter format: the tokenizer splits ' A'..' D' into several tokens.")
        score = letter_logprobs if self.format == "letter" else cloze_logprobs
        predictions = score(model, tokenizer, encoded, self.batch_size, self.progress).argmax(1)
        return self.result(test, predictions.tolist())
