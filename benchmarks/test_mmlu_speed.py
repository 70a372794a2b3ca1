"""The native MMLU evaluator against the lm-eval backend on the same model and questions, same run.

The first 9 test questions of each of the 57 subjects (513 questions), ``SELBENCH_MMLU_SHOTS``-shot
(default 5), in the format ``SELBENCH_MMLU_FORMAT`` (default cloze). Reports both accuracies, the
per-question agreement and the speed ratio (target: native at least 3x faster, at least 99 % agreement).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from benchmark.evaluation import build_evaluator
from benchmark.models import ModelSpec, load_model, resolve_model
from benchmarks.conftest import SCALE

DATA = Path(os.environ.get("SELBENCH_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
FORMAT = os.environ.get("SELBENCH_MMLU_FORMAT", "cloze")
SHOTS = int(os.environ.get("SELBENCH_MMLU_SHOTS", "5"))
PER_SUBJECT = max(1, int(9 * SCALE))


def test_native_against_lm_eval(benchmark):
    model, tokenizer = load_model(resolve_model(ModelSpec.default()))
    params = {
        "path": str(DATA / "mmlu"),
        "format": FORMAT,
        "num_fewshot": SHOTS,
        "limit_per_subject": PER_SUBJECT,
    }
    start = time.perf_counter()
    reference = build_evaluator("mmlu", params | {"progress": False}).evaluate(model, tokenizer)
    lm_eval_seconds = time.perf_counter() - start
    native = benchmark.pedantic(
        build_evaluator("mmlu_native", params | {"progress": False}).evaluate,
        args=(model, tokenizer),
        rounds=1,
    )
    seconds = benchmark.stats.stats.mean
    a, b = np.array(native.details["predictions"]), np.array(reference.details["predictions"])
    benchmark.extra_info.update(
        format=FORMAT,
        num_fewshot=SHOTS,
        questions=native.n,
        native_seconds=seconds,
        lm_eval_seconds=lm_eval_seconds,
        speedup=lm_eval_seconds / seconds,
        agreement=float((a == b).mean()),
        disagreements=np.flatnonzero(a != b).tolist(),
        native_acc=native.metrics["acc"],
        native_acc_stderr=native.metrics["acc_stderr"],
        native_acc_macro=native.metrics["acc_macro"],
        lm_eval_acc=reference.details["lm_eval_group_acc"],
    )
    print(benchmark.extra_info)
    assert (a == b).mean() >= 0.99
