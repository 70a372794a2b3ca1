"""Supervised fine-tuning on the selected examples: loss on the response tokens only, LoRA or full.

Built on transformers' Trainer with the defaults it may change between releases pinned here (sampler,
gradient checkpointing, precision, logging). The prompt format is the scorer's, so a model is trained on
exactly the text it is scored and evaluated with.
"""

from __future__ import annotations

import inspect
import json
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from benchmark.atomic import atomic_write_text
from benchmark.errors import SelbenchError
from benchmark.prompting import format_response, tokenize_prompts
from benchmark.settings import TrainingConfig
from benchmark.types import Example

# transformers 5 calls its own deprecated ``is_gradient_checkpointing`` when peft wraps a model
warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)

IGNORE = -100  # label of tokens that carry no loss


@dataclass(frozen=True)
class TrainResult:
    model: Any  # the fine-tuned model, LoRA weights merged, in eval mode
    steps: int
    seconds: float
    train_tokens: int  # non-padding tokens trained on, all epochs
    final_loss: float
    loss_curve: list[dict[str, float]]
    bf16: bool  # whether bfloat16 autocast was used (``TrainingConfig.bf16=None`` decides by hardware)
    prompts_cut: int = 0  # examples whose prompt lost the middle of its text to fit max_length
    responses_cut: int = 0  # examples whose response lost its end

    @property
    def tokens_per_second(self) -> float:
        return self.train_tokens / self.seconds


@dataclass(frozen=True)
class SFTRows:
    rows: list[dict[str, list[int]]]
    prompts_cut: int  # prompts that lost the middle of their text to fit ``max_length``
    responses_cut: int  # responses that lost their end


def tokenize_for_sft(tokenizer: Any, examples: Sequence[Example], max_length: int) -> SFTRows:
    """input_ids = prompt + response (+ EOS), labels = IGNORE on the prompt. Too long: the response keeps
    at least half of ``max_length`` and the prompt loses the middle of its text (``tokenize_prompts``),
    never its instruction or question."""
    responses = tokenizer(
        [format_response(tokenizer, ex.response) for ex in examples], add_special_tokens=False
    )["input_ids"]
    limits = [max_length - min(len(r), max_length // 2) for r in responses]
    prompts = tokenize_prompts(tokenizer, [ex.prompt for ex in examples], limits)
    rows, responses_cut = [], 0
    for prompt, response in zip(prompts.ids, responses, strict=True):
        if len(prompt) + len(response) > max_length:
            response = response[: max_length - len(prompt)]
            responses_cut += 1
        rows.append({"input_ids": prompt + response, "labels": [IGNORE] * len(prompt) + response})
    return SFTRows(rows, prompts.truncated, responses_cut)


class CompletionCollator:
    """Pads a batch on the right to its own longest sequence (not to ``max_length``).

    ``label_logits_only``: the model projects onto its vocabulary only the positions that predict a
    response token (transformers' ``logits_to_keep`` mask, with the matching ``shift_labels``), the same
    loss without the prompt's logits. With a large vocabulary (gemma-3: 262K) the projection and its
    softmax are most of a training step, and prompts are most of the tokens."""

    def __init__(self, pad_id: int, pad_to: int | None = None, label_logits_only: bool = True) -> None:
        self.pad_id = pad_id
        self.pad_to = pad_to  # a fixed width: only the naive baseline of the benchmark uses it
        self.label_logits_only = label_logits_only
        self.tokens = 0  # non-padding tokens collated so far

    def __call__(self, rows: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        width = self.pad_to or max(len(r["input_ids"]) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            n = len(row["input_ids"])
            ids[i, :n] = torch.tensor(row["input_ids"])
            labels[i, :n] = torch.tensor(row["labels"])
            mask[i, :n] = 1
        self.tokens += int(mask.sum())
        batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
        if self.label_logits_only:  # position t predicts token t + 1
            keep = torch.zeros_like(labels, dtype=torch.bool)
            keep[:, :-1] = labels[:, 1:] != IGNORE
            batch |= {"logits_to_keep": keep, "shift_labels": labels[:, 1:][keep[:, :-1]]}
        return batch


def _with_adapter(model: Any, config: TrainingConfig) -> Any:
    if config.method == "full":
        return model
    from peft import LoraConfig, get_peft_model

    target = config.target_modules if isinstance(config.target_modules, str) else list(config.target_modules)
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=target,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def _keeps_logits(model: Any) -> bool:
    """Whether ``model.forward`` takes transformers' ``logits_to_keep`` (every built-in causal LM does; a
    model with its own code may not, and is then trained with logits at every position)."""
    return "logits_to_keep" in inspect.signature(model.forward).parameters


def planned_steps(config: TrainingConfig, n_examples: int) -> int:
    """Optimizer steps of a run on ``n_examples``: ``max_steps`` if set, else ``epochs`` over the data,
    raised to ``min_steps`` (so that the smallest budgets still move the model)."""
    if config.max_steps:
        return config.max_steps
    per_epoch = math.ceil(n_examples / (config.batch_size * config.gradient_accumulation_steps))
    return max(math.ceil(config.epochs * per_epoch), config.min_steps)


def uses_bf16(config: TrainingConfig, on_cuda: bool) -> bool:
    """``config.bf16``, or when None whether bfloat16 matmuls run natively here (CUDA, or a CPU with
    AVX512-BF16 or AMX; elsewhere autocast emulates them, slower)."""
    if config.bf16 is not None:
        return config.bf16
    if on_cuda:
        return True
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def fine_tune(
    model: Any,
    tokenizer: Any,
    examples: Sequence[Example],
    config: TrainingConfig,
    run_dir: str | Path,
    *,
    progress: bool = True,
    collator: CompletionCollator | None = None,
    merge: bool = True,
) -> TrainResult:
    """Fine-tune ``model`` (modified in place) on ``examples``; save the adapter or weights and the loss
    curve in ``run_dir``. Deterministic for a given seed, data and machine. ``merge``: fold LoRA weights
    into the base model for fast evaluation (False keeps the peft model, for inspection)."""
    from datasets import Dataset
    from transformers import PrinterCallback, Trainer, TrainingArguments, set_seed

    if not examples:
        raise SelbenchError("fine_tune needs at least one example; budget 0 means evaluating the base model.")
    run_dir = Path(run_dir)
    set_seed(config.seed)
    tokenized = tokenize_for_sft(tokenizer, examples, config.max_length)
    dataset = Dataset.from_list([r | {"length": len(r["input_ids"])} for r in tokenized.rows])
    on_cuda = next(model.parameters()).device.type == "cuda"
    bf16 = uses_bf16(config, on_cuda)
    label_logits_only = _keeps_logits(model)
    model = _with_adapter(model, config)
    args = TrainingArguments(
        output_dir=str(run_dir / "trainer"),
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        num_train_epochs=config.epochs,
        max_steps=planned_steps(config, len(examples)),
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio,
        weight_decay=config.weight_decay,
        bf16=bf16,
        activation_checkpointing=config.gradient_checkpointing,
        seed=config.seed,
        data_seed=config.seed,
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        length_column_name="length",
        logging_steps=1,
        logging_strategy="steps",
        save_strategy="no",
        report_to="none",
        disable_tqdm=not progress,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        use_cpu=not on_cuda,
        optim="adamw_torch",
        max_grad_norm=1.0,
        torch_compile=False,
    )
    collator = collator or CompletionCollator(tokenizer.pad_token_id, label_logits_only=label_logits_only)
    trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=collator)
    if not progress:  # without a progress bar Trainer prints every log line instead
        trainer.remove_callback(PrinterCallback)
    model.train()
    start = time.perf_counter()
    output = trainer.train()
    seconds = time.perf_counter() - start
    curve = [
        {"step": e["step"], "loss": e["loss"], "learning_rate": e.get("learning_rate", 0.0)}
        for e in trainer.state.log_history
        if "loss" in e
    ]
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        run_dir / "loss.json", json.dumps({"config": asdict(config), "bf16": bf16, "curve": curve}, indent=1)
    )
    if config.save_model:
        model.save_pretrained(run_dir / ("adapter" if config.method == "lora" else "model"))
    merged = model.merge_and_unload() if config.method == "lora" and merge else model
    merged.eval()
    final = float(curve[-1]["loss"])
    return TrainResult(
        merged,
        output.global_step,
        seconds,
        collator.tokens,
        final,
        curve,
        bf16,
        tokenized.prompts_cut,
        tokenized.responses_cut,
    )
