"""The scorer: label-free features of a pool (model confidence, embeddings), batched and cached by content.

Features are computed once per (pool, model, settings) and shared by every strategy, budget and seed.
Confidence is label-free by default: the model answers each prompt greedily and its confidence is the
mean probability of its own answer tokens (the responses are what annotation buys, so a selection
method may not look at them). ``confidence='reference'`` scores the gold response instead, an oracle
ablation. Task-level confidence is estimated from a seeded sample of prompts per task, so the paper's
method never pays for a pass over the whole pool.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from benchmark.cache import FeatureCache
from benchmark.errors import SelbenchError
from benchmark.inference import greedy_generate, score_continuations
from benchmark.models import (
    cache_root,
    device_and_dtype,
    embedder_fingerprint,
    load_model,
    minilm_dir,
    resolve_model,
)
from benchmark.prompting import format_response, left_pad, length_batches, tokenize_prompts
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
    texts = [format_response(tokenizer, r) for r in responses]
    response_ids = [ids[:max_new_tokens] for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    scores = score_continuations(
        model, tokenizer, prompt_ids, response_ids, batch_size=batch_size, progress=progress
    )
    return scores.mean_prob, scores.mean_entropy, sum(map(len, prompt_ids)) + sum(map(len, response_ids))


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
    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
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
    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    prompt_ids = scoring_prompts(tokenizer, prompts, max_prompt_tokens)
    texts = [format_response(tokenizer, r) for r in responses]
    response_ids = [t[:max_response_tokens] for t in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    after_prompt = score_continuations(
        model, tokenizer, prompt_ids, response_ids, batch_size=batch_size, progress=progress
    )
    alone = score_continuations(
        model, tokenizer, [[start]] * len(prompts), response_ids, batch_size=batch_size, progress=progress
    )
    tokens = sum(map(len, prompt_ids)) + 2 * sum(map(len, response_ids)) + len(prompts)
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

    def _key(self, kind: str, pool: Pool, **settings: Any) -> str:
        return self.cache.key(kind=kind, pool=pool.fingerprint(), **settings)

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

    def confidence(self, pool: Pool) -> tuple[np.ndarray, np.ndarray]:
        """(confidence, entropy) of every example of the pool."""
        key = self._key("confidence", pool, **self._model_settings())

        def compute() -> tuple[dict[str, np.ndarray], dict[str, Any]]:
            confidence, entropy, tokens = self._confidence_of(pool, np.arange(len(pool)))
            return {"confidence": confidence, "entropy": entropy}, self.provenance() | {"tokens": tokens}

        arrays, meta = self.cache.get_or_compute(key, compute, f"confidence of pool {pool.name}")
        self.costs["confidence"] = self.costs["entropy"] = meta.get("cost")
        return arrays["confidence"], arrays["entropy"]

    def task_confidence(self, pool: Pool) -> TaskConfidence:
        """Mean confidence per task over ``task_sample_size`` seeded prompts each, with standard errors."""
        c = self.config
        key = self._key("task_confidence", pool, k=c.task_sample_size, seed=c.seed, **self._model_settings())

        def compute() -> tuple[dict[str, np.ndarray], dict[str, Any]]:
            sample = task_sample(pool, c.task_sample_size, c.seed)
            values, _, tokens = self._confidence_of(pool, sample)
            task_of = pool.task_ids()[sample]
            n = np.bincount(task_of, minlength=len(pool.tasks))
            mean = np.bincount(task_of, weights=values, minlength=len(pool.tasks)) / n
            sq = np.bincount(task_of, weights=(values - mean[task_of]) ** 2, minlength=len(pool.tasks))
            with np.errstate(invalid="ignore", divide="ignore"):
                stderr = np.where(n > 1, np.sqrt(sq / np.maximum(n - 1, 1)) / np.sqrt(n), np.nan)
            arrays = {"mean": mean, "stderr": stderr, "n": n, "sample": sample}
            return arrays, self.provenance() | {"tasks": list(pool.tasks), "tokens": tokens}

        arrays, meta = self.cache.get_or_compute(key, compute, f"task confidence of pool {pool.name}")
        self.costs["task_confidence"] = meta.get("cost")
        return TaskConfidence(pool.tasks, arrays["mean"], arrays["stderr"], arrays["n"])

    def prompt_logprob(self, pool: Pool) -> np.ndarray:
        """(N,) mean log-likelihood per prompt token under the model (perplexity selection)."""
        c = self.config
        settings = {k: v for k, v in self._model_settings().items() if k in ("model", "device", "dtype")}
        key = self._key("prompt_logprob", pool, max_prompt_tokens=c.max_prompt_tokens, **settings)

        def compute() -> tuple[dict[str, np.ndarray], dict[str, Any]]:
            model, tokenizer = self.lm
            prompts = [ex.prompt for ex in pool.examples]
            values, tokens = prompt_log_likelihood(
                model,
                tokenizer,
                prompts,
                max_prompt_tokens=c.max_prompt_tokens,
                batch_size=c.batch_size,
                progress=c.progress,
            )
            return {"prompt_logprob": values}, self.provenance() | {"tokens": tokens}

        arrays, meta = self.cache.get_or_compute(key, compute, f"prompt log-likelihood of pool {pool.name}")
        self.costs["prompt_logprob"] = meta.get("cost")
        return arrays["prompt_logprob"]

    def ifd(self, pool: Pool) -> np.ndarray:
        """(N,) instruction-following difficulty of every example: reads the gold responses (an oracle)."""
        c = self.config
        settings = {k: v for k, v in self._model_settings().items() if k in ("model", "device", "dtype")}
        key = self._key(
            "ifd", pool, max_prompt_tokens=c.max_prompt_tokens, max_new_tokens=c.max_new_tokens, **settings
        )

        def compute() -> tuple[dict[str, np.ndarray], dict[str, Any]]:
            model, tokenizer = self.lm
            values, tokens = instruction_following_difficulty(
                model,
                tokenizer,
                [ex.prompt for ex in pool.examples],
                [ex.response for ex in pool.examples],
                max_prompt_tokens=c.max_prompt_tokens,
                max_response_tokens=c.max_new_tokens,
                batch_size=c.batch_size,
                progress=c.progress,
            )
            return {"ifd": values}, self.provenance() | {"tokens": tokens}

        arrays, meta = self.cache.get_or_compute(key, compute, f"IFD of pool {pool.name}")
        self.costs["ifd"] = meta.get("cost")
        return arrays["ifd"]

    def embeddings(self, pool: Pool) -> np.ndarray:
        """(N, d) float32 L2-normalised embeddings of the prompts."""
        c = self.config
        if c.embedding == "lm_mean_pool":
            settings = {
                k: v for k, v in self._model_settings().items() if k in ("model", "device", "dtype")
            } | {"max_prompt_tokens": c.max_prompt_tokens}
        else:
            settings = {
                "embedder": embedder_fingerprint(c.embedder),  # content: a changed embedder is a new entry
            }
        key = self._key(f"embeddings/{c.embedding}", pool, **settings)
        arrays, meta = self.cache.get_or_compute(
            key, lambda: self._embed(pool, settings), f"embeddings of pool {pool.name}"
        )
        self.costs["embeddings"] = meta.get("cost")
        return arrays["embeddings"]

    def _embed(self, pool: Pool, settings: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
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
        return {"embeddings": emb}, {"embedding": c.embedding, **settings, "tokens": tokens}

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
