"""The scorer: features of a pool (model confidence, embeddings, perplexity, IFD), cached by content.

Features are computed once per (pool, model, settings) and shared by every strategy, budget and seed;
each cache entry records what computing it cost (seconds, tokens), so every cell can report its
selection cost. The model-level computations live in ``benchmark.model_scores``.
Confidence is label-free by default: the model answers each prompt greedily and its confidence is the
mean probability of its own answer tokens (the responses are what annotation buys, so a selection
method may not look at them). ``confidence='reference'`` scores the gold response instead, an oracle
ablation. Task-level confidence is estimated from a seeded sample of prompts per task, so the paper's
method never pays for a pass over the whole pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from benchmark.cache import FeatureCache
from benchmark.errors import SelbenchError
from benchmark.model_scores import (
    generation_confidence,
    instruction_following_difficulty,
    lm_mean_pool_embeddings,
    prompt_log_likelihood,
    reference_confidence,
)
from benchmark.models import (
    cache_root,
    device_and_dtype,
    embedder_fingerprint,
    load_model,
    minilm_dir,
    resolve_model,
)
from benchmark.prompting import tokenize_prompts
from benchmark.settings import ScorerConfig
from benchmark.types import FEATURE_NAMES, Features, Pool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskConfidence:
    """Per-task mean confidence over a seeded sample of ``n`` prompts, with its standard error."""

    tasks: tuple[str, ...]
    mean: np.ndarray
    stderr: np.ndarray
    n: np.ndarray

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.tasks, self.mean.tolist(), strict=True))


def task_sample(pool: Pool, k: int, seed: int) -> np.ndarray:
    """Up to ``k`` example indices per task, drawn with ``seed``, in pool order."""
    rng = np.random.default_rng(seed)
    task_ids = pool.task_ids()
    picked = [
        rng.choice(np.flatnonzero(task_ids == t), size=min(k, int((task_ids == t).sum())), replace=False)
        for t in range(len(pool.tasks))
    ]
    return np.sort(np.concatenate(picked))


class Scorer:
    """Computes and caches pool features. The model and the embedder load lazily, on a cache miss."""

    def __init__(self, config: ScorerConfig | None = None) -> None:
        self.config = config or ScorerConfig()
        self.cache = FeatureCache(cache_root(self.config.cache_dir))
        self._resolved = None
        self._lm = None
        self._embedder = None
        # per feature: what computing it cost (seconds, tokens), read from the cache entry on a hit
        self.costs: dict[str, dict[str, Any] | None] = {}

    @property
    def resolved(self):
        if self._resolved is None:
            self._resolved = resolve_model(self.config.model)
        return self._resolved

    @property
    def lm(self) -> tuple[Any, Any]:
        if self._lm is None:
            log.info("loading %s", self.config.model.name_or_path)
            self._lm = load_model(self.resolved, self.config.cache_dir)
        return self._lm

    def provenance(self) -> dict[str, Any]:
        """What a result must record about the scorer: the model's identity and the settings."""
        settings = {
            k: v for k, v in asdict(self.config).items() if k not in ("model", "cache_dir", "progress")
        }
        return {"model": self.resolved.provenance, "scorer": settings}

    def _model_settings(self) -> dict[str, Any]:
        c = self.config
        device, dtype = device_and_dtype(c.model)  # scores in bfloat16 differ from float32 ones
        return {
            "model": self.resolved.fingerprint,
            "device": device.split(":")[0],
            "dtype": str(dtype),
            "confidence": c.confidence,
            "max_new_tokens": c.max_new_tokens,
            "max_prompt_tokens": c.max_prompt_tokens,
        }

    def _confidence_of(self, pool: Pool, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        model, tokenizer = self.lm
        c = self.config
        prompts = [pool.examples[i].prompt for i in indices]
        common = {
            "max_new_tokens": c.max_new_tokens,
            "max_prompt_tokens": c.max_prompt_tokens,
            "batch_size": c.batch_size,
            "progress": c.progress,
        }
        if c.confidence == "reference":
            responses = [pool.examples[i].response for i in indices]
            return reference_confidence(model, tokenizer, prompts, responses, **common)
        return generation_confidence(model, tokenizer, prompts, **common)

    def _cached(
        self,
        kind: str,
        pool: Pool,
        settings: dict[str, Any],
        compute: Callable[[], tuple[dict[str, np.ndarray], int, dict[str, Any]]],
        features: tuple[str, ...],
    ) -> dict[str, np.ndarray]:
        """The cache entry ``kind`` of ``pool`` under ``settings`` (its key), computed by ``compute``
        (arrays, tokens read, meta) when absent; its cost is recorded for ``features``."""

        def entry() -> tuple[dict[str, np.ndarray], dict[str, Any]]:
            arrays, tokens, meta = compute()
            return arrays, meta | {"tokens": tokens}

        key = self.cache.key(kind=kind, pool=pool.fingerprint(), **settings)
        arrays, meta = self.cache.get_or_compute(key, entry, f"{kind} of pool {pool.name}")
        for name in features:
            self.costs[name] = meta.get("cost")
        return arrays

    def _lm_settings(self) -> dict[str, Any]:
        return {k: v for k, v in self._model_settings().items() if k in ("model", "device", "dtype")}

    def confidence(self, pool: Pool) -> tuple[np.ndarray, np.ndarray]:
        """(confidence, entropy) of every example of the pool."""

        def compute() -> tuple[dict[str, np.ndarray], int, dict[str, Any]]:
            confidence, entropy, tokens = self._confidence_of(pool, np.arange(len(pool)))
            return {"confidence": confidence, "entropy": entropy}, tokens, self.provenance()

        arrays = self._cached("confidence", pool, self._model_settings(), compute, ("confidence", "entropy"))
        return arrays["confidence"], arrays["entropy"]

    def task_confidence(self, pool: Pool) -> TaskConfidence:
        """Mean confidence per task over ``task_sample_size`` seeded prompts each, with standard errors."""
        c = self.config

        def compute() -> tuple[dict[str, np.ndarray], int, dict[str, Any]]:
            sample = task_sample(pool, c.task_sample_size, c.seed)
            values, _, tokens = self._confidence_of(pool, sample)
            task_of = pool.task_ids()[sample]
            n = np.bincount(task_of, minlength=len(pool.tasks))
            mean = np.bincount(task_of, weights=values, minlength=len(pool.tasks)) / n
            sq = np.bincount(task_of, weights=(values - mean[task_of]) ** 2, minlength=len(pool.tasks))
            with np.errstate(invalid="ignore", divide="ignore"):
                stderr = np.where(n > 1, np.sqrt(sq / np.maximum(n - 1, 1)) / np.sqrt(n), np.nan)
            arrays = {"mean": mean, "stderr": stderr, "n": n, "sample": sample}
            return arrays, tokens, self.provenance() | {"tasks": list(pool.tasks)}

        settings = {"k": c.task_sample_size, "seed": c.seed, **self._model_settings()}
        arrays = self._cached("task_confidence", pool, settings, compute, ("task_confidence",))
        return TaskConfidence(pool.tasks, arrays["mean"], arrays["stderr"], arrays["n"])

    def prompt_logprob(self, pool: Pool) -> np.ndarray:
        """(N,) mean log-likelihood per prompt token under the model (perplexity selection)."""
        c = self.config

        def compute() -> tuple[dict[str, np.ndarray], int, dict[str, Any]]:
            model, tokenizer = self.lm
            prompts = [ex.prompt for ex in pool.examples]
            values, tokens = prompt_log_likelihood(
                model, tokenizer, prompts, max_prompt_tokens=c.max_prompt_tokens, batch_size=c.batch_size,
                progress=c.progress,
            )  # fmt: skip
            return {"prompt_logprob": values}, tokens, self.provenance()

        settings = {"max_prompt_tokens": c.max_prompt_tokens, **self._lm_settings()}
        return self._cached("prompt_logprob", pool, settings, compute, ("prompt_logprob",))["prompt_logprob"]

    def ifd(self, pool: Pool) -> np.ndarray:
        """(N,) instruction-following difficulty of every example: reads the gold responses (an oracle)."""
        c = self.config

        def compute() -> tuple[dict[str, np.ndarray], int, dict[str, Any]]:
            model, tokenizer = self.lm
            values, tokens = instruction_following_difficulty(
                model, tokenizer, [ex.prompt for ex in pool.examples], [ex.response for ex in pool.examples],
                max_prompt_tokens=c.max_prompt_tokens, max_response_tokens=c.max_new_tokens,
                batch_size=c.batch_size, progress=c.progress,
            )  # fmt: skip
            return {"ifd": values}, tokens, self.provenance()

        settings = {"max_prompt_tokens": c.max_prompt_tokens, "max_new_tokens": c.max_new_tokens}
        return self._cached("ifd", pool, settings | self._lm_settings(), compute, ("ifd",))["ifd"]

    def embeddings(self, pool: Pool) -> np.ndarray:
        """(N, d) float32 L2-normalised embeddings of the prompts."""
        c = self.config
        if c.embedding == "lm_mean_pool":
            settings = self._lm_settings() | {"max_prompt_tokens": c.max_prompt_tokens}
        else:
            settings = {
                "embedder": embedder_fingerprint(c.embedder),  # content: a changed embedder is a new entry
            }
        kind = f"embeddings/{c.embedding}"
        return self._cached(kind, pool, settings, lambda: self._embed(pool, settings), ("embeddings",))[
            "embeddings"
        ]

    def _embed(
        self, pool: Pool, settings: dict[str, Any]
    ) -> tuple[dict[str, np.ndarray], int, dict[str, Any]]:
        c = self.config
        prompts = [ex.prompt for ex in pool.examples]
        if c.embedding == "lm_mean_pool":
            model, tokenizer = self.lm
            emb = lm_mean_pool_embeddings(
                model,
                tokenizer,
                prompts,
                max_prompt_tokens=c.max_prompt_tokens,
                batch_size=c.batch_size,
                progress=c.progress,
            )
            tokens = sum(map(len, tokenize_prompts(tokenizer, prompts, c.max_prompt_tokens).ids))
        else:
            embedder = self.sentence_transformer
            lengths = embedder.tokenizer(prompts, truncation=True, max_length=embedder.max_seq_length)
            tokens = sum(map(len, lengths["input_ids"]))
            emb = embedder.encode(
                prompts,
                batch_size=c.embedding_batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=c.progress,
            ).astype(np.float32)
        return {"embeddings": emb}, tokens, {"embedding": c.embedding, **settings}

    @property
    def sentence_transformer(self) -> Any:
        if self._embedder is None:
            from sentence_transformers import SentenceTransformer

            source = self.config.embedder or str(minilm_dir())
            device = "cuda" if torch.cuda.is_available() else "cpu"
            self._embedder = SentenceTransformer(source, device=device)
        return self._embedder

    def cost(self, names: frozenset[str]) -> dict[str, float | None]:
        """What computing the features ``names`` cost, summed over their cache entries (each counted
        once): wall seconds and model tokens; None where an entry predates cost records."""
        if any(self.costs.get(n) is None for n in names):
            return {"seconds": None, "tokens": None}
        entries = {id(c): c for n in names if (c := self.costs[n])}.values()  # confidence, entropy: one
        tokens = [c.get("tokens") for c in entries]
        return {
            "seconds": sum(c["seconds"] for c in entries),
            "tokens": None if None in tokens else sum(tokens),
        }

    def features(self, pool: Pool, names: frozenset[str] | set[str]) -> Features:
        """Exactly the features named (a strategy's ``required_features()``), each cached."""
        unknown = set(names) - FEATURE_NAMES
        if unknown:
            raise SelbenchError(
                f"unknown features {sorted(unknown)}; known: {', '.join(sorted(FEATURE_NAMES))}."
            )
        values: dict[str, Any] = {}
        if {"confidence", "entropy"} & set(names):
            values["confidence"], values["entropy"] = self.confidence(pool)
        if "task_confidence" in names:
            values["task_confidence"] = self.task_confidence(pool).as_dict()
        if "embeddings" in names:
            values["embeddings"] = self.embeddings(pool)
        if "prompt_logprob" in names:
            values["prompt_logprob"] = self.prompt_logprob(pool)
        if "ifd" in names:
            values["ifd"] = self.ifd(pool)
        return Features(**values)
