"""What the model says about prompts and responses, as pure functions of (model, tokenizer, texts):
label-free confidence of its own greedy answers, reference confidence of the gold answers, prompt
log-likelihood (perplexity), instruction-following difficulty, mean-pooled hidden states. Each returns
the tokens it read, so selection cost is counted. ``benchmark.scoring`` caches them per pool.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from benchmark.inference import greedy_generate, score_continuations
from benchmark.prompting import format_response, left_pad, length_batches, tokenize_prompts

log = logging.getLogger(__name__)


def scoring_prompts(tokenizer: Any, prompts: list[str], max_prompt_tokens: int) -> list[list[int]]:
    """Prompt token ids for scoring; the prompts cut to fit (their middle removed) are counted in the log."""
    tokens = tokenize_prompts(tokenizer, prompts, max_prompt_tokens)
    if tokens.truncated:
        log.warning(
            "scoring: %d of %d prompts longer than max_prompt_tokens=%d lost the middle of their text",
            tokens.truncated,
            len(prompts),
            max_prompt_tokens,
        )
    return tokens.ids


def start_token(tokenizer: Any) -> int:
    """What a text is scored after when it has no prompt: the BOS token, else EOS."""
    return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id


def response_ids(tokenizer: Any, responses: list[str], max_tokens: int) -> list[list[int]]:
    """Gold responses as the model is trained to produce them (EOS included), their first ``max_tokens``."""
    texts = [format_response(tokenizer, r) for r in responses]
    return [ids[:max_tokens] for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def generation_confidence(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    *,
    max_new_tokens: int,
    max_prompt_tokens: int,
    batch_size: int,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray, int]:
    """(confidence, entropy) per prompt: the mean probability and the mean entropy (nats) of the tokens
    the model generates greedily, up to and including its first EOS; and the tokens read and generated."""
    ids = scoring_prompts(tokenizer, prompts, max_prompt_tokens)
    out = greedy_generate(
        model, tokenizer, ids, max_new_tokens=max_new_tokens, batch_size=batch_size, progress=progress
    )
    tokens = sum(map(len, ids)) + sum(map(len, out.tokens))
    return out.scores.mean_prob, out.scores.mean_entropy, tokens


def reference_confidence(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    responses: list[str],
    *,
    max_new_tokens: int,
    max_prompt_tokens: int,
    batch_size: int,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray, int]:
    """(confidence, entropy) of the gold responses, teacher-forced: over their first ``max_new_tokens``
    tokens (EOS included); and the tokens read."""
    prompt_ids = scoring_prompts(tokenizer, prompts, max_prompt_tokens)
    gold = response_ids(tokenizer, responses, max_new_tokens)
    scores = score_continuations(model, tokenizer, prompt_ids, gold, batch_size=batch_size, progress=progress)
    return scores.mean_prob, scores.mean_entropy, sum(map(len, prompt_ids)) + sum(map(len, gold))


def prompt_log_likelihood(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    *,
    max_prompt_tokens: int,
    batch_size: int,
    progress: bool = False,
) -> tuple[np.ndarray, int]:
    """Mean log-likelihood per token of each prompt's text (its first ``max_prompt_tokens`` tokens, no
    chat template) after the tokenizer's BOS token, else its EOS: minus the log of its perplexity. And
    the tokens read."""
    start = start_token(tokenizer)
    ids = [
        t[:max_prompt_tokens] or [start] for t in tokenizer(prompts, add_special_tokens=False)["input_ids"]
    ]
    scores = score_continuations(
        model, tokenizer, [[start]] * len(ids), ids, batch_size=batch_size, progress=progress
    )
    lengths = np.array([len(t) for t in ids])
    return scores.sum_logprob / lengths, int(lengths.sum()) + len(ids)


def instruction_following_difficulty(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    responses: list[str],
    *,
    max_prompt_tokens: int,
    max_response_tokens: int,
    batch_size: int,
    progress: bool = False,
) -> tuple[np.ndarray, int]:
    """IFD (Li et al., NAACL 2024): the gold response's loss after its prompt divided by its loss alone
    (after the BOS, else EOS, token), over its first ``max_response_tokens`` tokens. Below 1 the prompt
    helps; near 1 the response is hard to follow from it. And the tokens read. Reads the gold responses."""
    start = start_token(tokenizer)
    prompt_ids = scoring_prompts(tokenizer, prompts, max_prompt_tokens)
    gold = response_ids(tokenizer, responses, max_response_tokens)
    after_prompt = score_continuations(
        model, tokenizer, prompt_ids, gold, batch_size=batch_size, progress=progress
    )
    alone = score_continuations(
        model, tokenizer, [[start]] * len(prompts), gold, batch_size=batch_size, progress=progress
    )
    tokens = sum(map(len, prompt_ids)) + 2 * sum(map(len, gold)) + len(prompts)
    return after_prompt.sum_logprob / np.minimum(alone.sum_logprob, -1e-9), tokens


@torch.inference_mode()
def lm_mean_pool_embeddings(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    *,
    max_prompt_tokens: int,
    batch_size: int,
    progress: bool = False,
) -> np.ndarray:
    """L2-normalised mean of the causal LM's last hidden states over each formatted prompt."""
    ids = scoring_prompts(tokenizer, prompts, max_prompt_tokens)
    out = np.empty((len(prompts), model.config.hidden_size), dtype=np.float32)
    for batch in tqdm(
        list(length_batches([len(s) for s in ids], batch_size)), desc="lm embeddings", disable=not progress
    ):
        inputs = left_pad([ids[i] for i in batch], tokenizer.pad_token_id, model.device)
        hidden = model(**inputs, output_hidden_states=True, logits_to_keep=1).hidden_states[-1].float()
        mask = inputs["attention_mask"][..., None].float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        out[batch] = torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy()
    return out
