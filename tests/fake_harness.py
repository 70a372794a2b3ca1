"""A harness without models: deterministic features and a 'model' whose accuracy is task coverage."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from benchmark.types import Example, Features, Pool


class FakeHarness:
    def __init__(
        self, fail_budget: int | None = None, delay: float = 0.0, crash_budget: int | None = None
    ) -> None:
        self.trained: list[int] = []  # budget of every train_and_evaluate call
        self.fail_budget = fail_budget
        self.crash_budget = crash_budget  # the process dies there, as when the kernel kills it for memory
        self.delay = delay  # seconds per cell, so a test can kill a sweep midway

    def model_fingerprint(self) -> str:
        return "fake-model"

    def features(self, pool: Pool, names: frozenset[str]) -> Features:
        rng = np.random.default_rng(len(pool))
        emb = rng.standard_normal((len(pool), 8)).astype(np.float32)
        conf = rng.uniform(0.1, 0.9, len(pool))
        ids = pool.task_ids()
        return Features(
            confidence=conf,
            entropy=1 - conf,
            embeddings=emb / np.linalg.norm(emb, axis=1, keepdims=True),
            task_confidence={t: float(conf[ids == i].mean()) for i, t in enumerate(pool.tasks)},
            prompt_logprob=np.log(conf),
            ifd=conf + 0.3,
        )

    def feature_reads(self, names: frozenset[str]) -> frozenset[str]:
        return frozenset()

    def feature_cost(self, names: frozenset[str]) -> dict[str, float | None]:
        return {"seconds": 0.5 * len(names), "tokens": 100 * len(names)}

    def warm_cache(self, pool: Pool, names: frozenset[str]) -> None:
        self.warmed = names

    def train_and_evaluate(
        self, examples: list[Example], heldout: Pool | None, seed: int, run_dir: Path
    ) -> dict:
        if len(examples) == self.fail_budget:
            raise RuntimeError("simulated out-of-memory")
        if len(examples) == self.crash_budget:
            os._exit(137)
        time.sleep(self.delay)
        self.trained.append(len(examples))
        covered = {ex.task for ex in examples}
        per_task = {t: float(t in covered) for t in heldout.tasks}
        acc = float(np.mean(list(per_task.values())))
        return {"evaluations": {"heldout": {"metrics": {"acc": acc, "acc_macro": acc}, "per_task": per_task}}}
