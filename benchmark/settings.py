"""The harness's settings, as frozen dataclasses (cf. TRL's config dataclasses): what the scorer computes
and how SFT runs. Values only, checked when built; no model, tensor or file is touched here, so configs,
flags and ``selbench --help`` are read without importing torch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from benchmark.errors import SelbenchError
from benchmark.models import ModelSpec

CONFIDENCE_MODES = ("label_free", "reference")
EMBEDDINGS = ("sentence_transformers", "lm_mean_pool")


@dataclass(frozen=True)
class ScorerConfig:
    """What the scorer computes and how. Every field but the batch sizes, the cache folder and the
    progress switch enters the cache key."""

    model: ModelSpec = field(default_factory=ModelSpec.default)
    confidence: str = "label_free"
    max_new_tokens: int = 16  # answer tokens generated (label-free) or scored (reference)
    max_prompt_tokens: int = 256  # longer prompts lose the middle: their instruction and question stay
    task_sample_size: int = 32  # prompts per task for task-level confidence
    seed: int = 0
    embedding: str = "sentence_transformers"
    embedder: str | None = None  # sentence-transformers id or folder; None: packaged all-MiniLM-L6-v2
    batch_size: int = 16
    embedding_batch_size: int = 64
    cache_dir: str | None = None
    progress: bool = True

    FEATURE_FIELDS: ClassVar[tuple[str, ...]] = (  # the settings that decide the features (with the model)
        "confidence",
        "max_new_tokens",
        "max_prompt_tokens",
        "task_sample_size",
        "seed",
        "embedding",
        "embedder",
    )

    def feature_reads(self, names: frozenset[str]) -> frozenset[str]:
        """What computing the features ``names`` reads of the pool beyond the prompts: the gold
        responses when confidence is scored on them (``confidence='reference'``, an oracle ablation)."""
        scored = names & {"confidence", "entropy", "task_confidence"}
        return frozenset({"responses"}) if scored and self.confidence == "reference" else frozenset()

    def feature_settings(self) -> dict[str, Any]:
        """The settings that decide the features' values: the scorer's cache keys are made of them and
        the model's identity, and a sweep cell's key includes them for strategies that read features."""
        return {name: getattr(self, name) for name in self.FEATURE_FIELDS}

    def __post_init__(self) -> None:
        if self.confidence not in CONFIDENCE_MODES:
            raise SelbenchError(
                f"scorer confidence={self.confidence!r}: use one of {', '.join(CONFIDENCE_MODES)}."
            )
        if self.embedding not in EMBEDDINGS:
            raise SelbenchError(f"scorer embedding={self.embedding!r}: use one of {', '.join(EMBEDDINGS)}.")
        for name in (
            "max_new_tokens",
            "max_prompt_tokens",
            "task_sample_size",
            "batch_size",
            "embedding_batch_size",
        ):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise SelbenchError(f"scorer {name}={getattr(self, name)!r}: must be a positive integer.")


METHODS = ("lora", "full")


@dataclass(frozen=True)
class TrainingConfig:
    """SFT settings (cf. TRL's SFTConfig). ``bf16=None``: bfloat16 autocast where the hardware computes
    in bfloat16 natively (CUDA; CPUs with AVX512-BF16 or AMX, 1.75x the float32 tokens/s measured on
    such a 2-core CPU), float32 elsewhere. Runs record what was used. Sweeps and ``selbench finetune``
    evaluate in the same precision."""

    method: str = "lora"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    target_modules: str | tuple[str, ...] = "all-linear"
    learning_rate: float = 2e-4
    epochs: float = 3.0
    max_steps: int | None = None  # overrides epochs and min_steps when set
    min_steps: int = 0  # at least this many optimizer steps: a small selection is repeated to reach them
    batch_size: int = 8
    gradient_accumulation_steps: int = 1
    max_length: int = 256
    warmup_ratio: float = 0.0  # share of the training steps spent warming up
    weight_decay: float = 0.0
    lr_scheduler: str = "linear"
    bf16: bool | None = None
    gradient_checkpointing: bool = False
    group_by_length: bool = True
    seed: int = 0
    save_model: bool = True

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise SelbenchError(f"training method={self.method!r}: use one of {', '.join(METHODS)}.")
        if isinstance(self.min_steps, bool) or not isinstance(self.min_steps, int) or self.min_steps < 0:
            raise SelbenchError(f"training min_steps={self.min_steps!r}: must be a non-negative integer.")
        for name in ("lora_r", "batch_size", "gradient_accumulation_steps", "max_length"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise SelbenchError(f"training {name}={getattr(self, name)!r}: must be a positive integer.")
        for name in ("learning_rate", "epochs", "lora_alpha"):
            if not getattr(self, name) > 0:
                raise SelbenchError(f"training {name}={getattr(self, name)!r}: must be positive.")
        if self.max_steps is not None and (isinstance(self.max_steps, bool) or self.max_steps < 1):
            raise SelbenchError(f"training max_steps={self.max_steps!r}: must be a positive integer or null.")
        if not 0 <= self.warmup_ratio < 1:
            raise SelbenchError(f"training warmup_ratio={self.warmup_ratio!r}: must be in [0, 1).")
        if not 0 <= self.lora_dropout < 1:
            raise SelbenchError(f"training lora_dropout={self.lora_dropout!r}: must be in [0, 1).")
        if not self.weight_decay >= 0:
            raise SelbenchError(f"training weight_decay={self.weight_decay!r}: must be at least 0.")
