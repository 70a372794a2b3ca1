"""Batched scoring against a naive one-prompt-at-a-time loop on the same model and prompts, same run.

Label-free confidence of 128 prompts sampled (seeded) from the FLAN slice on the default model, and
sentence embeddings of the same prompts. Scores must agree within 1e-4.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.data import PoolSpec, load_pool
from benchmark.model_scores import generation_confidence
from benchmark.models import ModelSpec, load_model, minilm_dir, resolve_model
from benchmark.prompting import format_prompt
from benchmarks.conftest import SCALE

N_PROMPTS, MAX_NEW, MAX_PROMPT, BATCH = int(128 * SCALE), 16, 256, 16
DATA = Path(os.environ.get("SELBENCH_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="module")
def prompts() -> list[str]:
    spec = PoolSpec(
        "flan", {"path": str(DATA / "flan_t0"), "task_level": "coarse"}, max_examples=N_PROMPTS, seed=0
    )
    return [ex.prompt for ex in load_pool(spec).pool.examples]


@torch.inference_mode()
def naive_confidence(model, tokenizer, prompts: list[str]) -> np.ndarray:
    """One prompt at a time, no padding, no sorting: the loop research code usually has."""
    out = []
    for prompt in prompts:
        ids = tokenizer(format_prompt(tokenizer, prompt), add_special_tokens=False, return_tensors="pt")[
            "input_ids"
        ]
        ids = ids[:, -MAX_PROMPT:]
        gen = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=MAX_NEW,
            do_sample=False,
            output_logits=True,
            return_dict_in_generate=True,
            pad_token_id=tokenizer.pad_token_id,
        )
        tokens = gen.sequences[0, ids.shape[1] :]
        probs = [
            torch.softmax(step[0].float(), -1)[t].item() for step, t in zip(gen.logits, tokens, strict=True)
        ]
        eos = [i for i, t in enumerate(tokens.tolist()) if t == tokenizer.eos_token_id]
        out.append(float(np.mean(probs[: eos[0] + 1] if eos else probs)))
    return np.array(out)


def test_label_free_confidence_speed(benchmark, prompts):
    model, tokenizer = load_model(resolve_model(ModelSpec.default()))
    n_prompt_tokens = sum(
        min(len(tokenizer(format_prompt(tokenizer, p))["input_ids"]), MAX_PROMPT) for p in prompts
    )
    start = time.perf_counter()
    naive = naive_confidence(model, tokenizer, prompts)
    naive_seconds = time.perf_counter() - start
    settings = {"max_new_tokens": MAX_NEW, "max_prompt_tokens": MAX_PROMPT, "batch_size": BATCH}
    batched, _ = benchmark.pedantic(
        generation_confidence, args=(model, tokenizer, prompts), kwargs=settings, rounds=1, iterations=1
    )
    seconds = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        prompts=len(prompts),
        prompt_tokens=n_prompt_tokens,
        seconds=seconds,
        naive_seconds=naive_seconds,
        speedup=naive_seconds / seconds,
        prompt_tokens_per_second=n_prompt_tokens / seconds,
        naive_prompt_tokens_per_second=n_prompt_tokens / naive_seconds,
        max_abs_difference=float(np.abs(batched - naive).max()),
    )
    print(benchmark.extra_info)
    np.testing.assert_allclose(batched, naive, atol=1e-4)


def test_embedding_speed(benchmark, prompts):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(minilm_dir()), device="cpu")
    start = time.perf_counter()
    naive = np.stack([model.encode([p], normalize_embeddings=True)[0] for p in prompts])
    naive_seconds = time.perf_counter() - start
    batched = benchmark.pedantic(
        model.encode,
        args=(prompts,),
        kwargs={"batch_size": 64, "normalize_embeddings": True},
        rounds=1,
        iterations=1,
    )
    seconds = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        prompts=len(prompts),
        seconds=seconds,
        naive_seconds=naive_seconds,
        speedup=naive_seconds / seconds,
        prompts_per_second=len(prompts) / seconds,
        max_abs_difference=float(np.abs(batched - naive).max()),
    )
    print(benchmark.extra_info)
    np.testing.assert_allclose(batched, naive, atol=1e-4)
