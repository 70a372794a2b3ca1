"""SFT throughput against a naive baseline that pads every batch to the maximum length, same examples,
same model, same run (target: at least 1.5x training tokens per second).

64 examples sampled (seeded) from the FLAN slice (long prompts, many cut at 256 tokens) and from the
synthetic pool (short examples), max length 256, batch 8, one epoch, LoRA (the default). selbench groups
examples of similar length and pads each batch to its own longest sequence, so its gain grows with the
padding the naive baseline wastes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmark.data import PoolSpec, load_pool
from benchmark.models import ModelSpec, load_model, resolve_model
from benchmark.settings import TrainingConfig
from benchmark.training import CompletionCollator, TrainResult, fine_tune
from benchmarks.conftest import SCALE

DATA = Path(os.environ.get("SELBENCH_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
METHOD = os.environ.get("SELBENCH_TRAIN_METHOD", "lora")


POOLS = {
    "flan": PoolSpec(
        "flan", {"path": str(DATA / "flan_t0"), "task_level": "coarse"}, max_examples=int(64 * SCALE)
    ),
    "synthetic": PoolSpec("synthetic", max_examples=int(64 * SCALE)),
}


@pytest.fixture(params=sorted(POOLS))
def examples(request):
    return load_pool(POOLS[request.param]).pool.examples


def test_training_throughput(benchmark, examples, tmp_path):
    config = TrainingConfig(method=METHOD, epochs=1, batch_size=8, max_length=256, save_model=False)
    model, tokenizer = load_model(resolve_model(ModelSpec.default()))
    naive_config = TrainingConfig(**{**config.__dict__, "group_by_length": False})
    naive = fine_tune(
        model,
        tokenizer,
        examples,
        naive_config,
        tmp_path / "naive",
        progress=False,
        collator=CompletionCollator(tokenizer.pad_token_id, pad_to=config.max_length),
    )

    def ours():
        fresh, tok = load_model(resolve_model(ModelSpec.default()))
        return fine_tune(fresh, tok, examples, config, tmp_path / "ours", progress=False)

    result = benchmark.pedantic(ours, rounds=1, iterations=1)
    benchmark.extra_info.update(
        method=METHOD,
        examples=len(examples),
        train_tokens=result.train_tokens,
        seconds=result.seconds,
        tokens_per_second=result.tokens_per_second,
        naive_seconds=naive.seconds,
        naive_tokens_per_second=naive.tokens_per_second,
        speedup=result.tokens_per_second / naive.tokens_per_second,
        final_loss=result.final_loss,
        naive_final_loss=naive.final_loss,
    )
    print(benchmark.extra_info)
    assert result.train_tokens == naive.train_tokens


def test_bf16_autocast_throughput(benchmark, tmp_path):
    """bfloat16 autocast against float32 (the CPU default), both length-grouped, same FLAN examples."""
    examples = load_pool(POOLS["flan"]).pool.examples
    resolved = resolve_model(ModelSpec.default())
    runs = {}
    for bf16 in (False, True):
        config = TrainingConfig(method=METHOD, epochs=1, max_length=256, bf16=bf16, save_model=False)
        model, tokenizer = load_model(resolved)
        runs[bf16] = fine_tune(model, tokenizer, examples, config, tmp_path / str(bf16), progress=False)
    _report(benchmark, ("float32", runs[False]), ("bf16", runs[True]), method=METHOD)
    assert runs[True].train_tokens == runs[False].train_tokens


def _report(benchmark, baseline: tuple[str, TrainResult], ours: tuple[str, TrainResult], **info) -> None:
    """Two training runs measured beside each other: their tokens per second, ratio and final losses."""
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    for name, run in (baseline, ours):
        info |= {f"{name}_tokens_per_second": run.tokens_per_second, f"{name}_final_loss": run.final_loss}
    benchmark.extra_info.update(info, speedup=ours[1].tokens_per_second / baseline[1].tokens_per_second)
    print(benchmark.extra_info)


def _models() -> dict[str, ModelSpec | None]:
    gemma = os.environ.get("SELBENCH_GEMMA_DIR")
    return {
        "smollm2": ModelSpec.default(),
        "gemma3": ModelSpec(gemma, gguf_file="gemma-3-270m-q4_k_m.gguf") if gemma else None,
    }


@pytest.mark.parametrize("name", sorted(_models()))
def test_label_logits_throughput(benchmark, name, tmp_path):
    """Vocabulary logits only where a response token is predicted, against logits at every position (the
    length-grouped collator before this change), same FLAN examples, same run: the study's setting
    (max length 160, batch 8, LoRA, float32). gemma-3-270m (262K vocabulary) runs when
    ``SELBENCH_GEMMA_DIR`` holds its GGUF file; 16 examples, as its steps cost 5x SmolLM2's."""
    spec = _models()[name]
    if spec is None:
        pytest.skip("SELBENCH_GEMMA_DIR is not set")
    examples = load_pool(POOLS["flan"]).pool.examples[: 16 if name == "gemma3" else None]
    config = TrainingConfig(method=METHOD, epochs=1, max_length=160, bf16=False, save_model=False)
    resolved = resolve_model(spec)
    runs = {}
    for label_logits_only in (False, True):
        model, tokenizer = load_model(resolved)
        collator = CompletionCollator(tokenizer.pad_token_id, label_logits_only=label_logits_only)
        runs[label_logits_only] = fine_tune(
            model,
            tokenizer,
            examples,
            config,
            tmp_path / str(label_logits_only),
            progress=False,
            collator=collator,
        )
    _report(
        benchmark,
        ("all_logits", runs[False]),
        ("label_logits", runs[True]),
        model=name,
        examples=len(examples),
    )
    assert runs[True].final_loss == pytest.approx(runs[False].final_loss, rel=1e-4)
