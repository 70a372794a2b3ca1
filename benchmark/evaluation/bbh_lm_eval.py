"""BIG-Bench Hard through lm-evaluation-harness: lm-eval's own BBH tasks (their prompts, few-shot chains of
thought, stop sequences and answer filter), read from the hub (lm-eval's dataset) or from a local ``bbh/``
folder in the official layout (``<task>.json`` files of ``{"examples": [{"input", "target"}]}``).

For the numbers papers report with lm-eval. Its protocol is not the native ``bbh`` evaluator's: lm-eval
writes raw-text prompts, the native evaluator the model's chat format (the format selbench fine-tunes
in), so the two answer the same questions under different prompts and agree only as protocols do.
"""

from __future__ import annotations

import tempfile
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmark.data.files import existing_path, no_download_counts
from benchmark.errors import SelbenchError
from benchmark.evaluation.base import EvalResult, Evaluator, accuracy_metrics, register_evaluator
from benchmark.registry import did_you_mean
from benchmark.types import Pool, content_hash

VARIANTS = ("cot_fewshot", "fewshot", "cot_zeroshot", "zeroshot")  # lm-eval's bbh_<variant> groups


def stock_tasks(variant: str) -> dict[str, Path]:
    """lm-eval's BBH task files of a variant, by task name (``boolean_expressions``, ...)."""
    spec = find_spec("lm_eval.tasks")
    if spec is None or not spec.submodule_search_locations:
        raise SelbenchError("lm-eval is not installed: pip install lm-eval.")
    folder = Path(next(iter(spec.submodule_search_locations))) / "bbh" / variant
    return {p.stem: p for p in sorted(folder.glob("*.yaml")) if not p.stem.startswith("_")}


@register_evaluator("bbh_lm_eval")
class BigBenchHardLmEval(Evaluator):
    """BIG-Bench Hard with lm-eval's tasks (``variant``: its ``bbh_<variant>`` group), on a local ``path``
    (a ``bbh/`` folder) or the hub; exact match of lm-eval's filtered answer, per task, macro and micro."""

    version = 1
    headline = "acc_macro"
    metric_families = ("acc",)

    def __init__(
        self,
        *,
        path: str | None = None,
        variant: str = "cot_fewshot",
        tasks: list[str] | None = None,
        limit_per_task: int | None = None,
        max_new_tokens: int = 256,
        batch_size: int = 8,
        progress: bool = True,
    ) -> None:
        if variant not in VARIANTS:
            raise SelbenchError(f"bbh_lm_eval variant={variant!r}: use one of {', '.join(VARIANTS)}.")
        self.path = path
        self.variant = variant
        self.tasks = tasks
        self.limit_per_task = limit_per_task
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.progress = progress

    def task_files(self) -> dict[str, Path | None]:
        """The chosen tasks with their local data file (None: read from the hub), checked."""
        stock = stock_tasks(self.variant)
        for task in self.tasks or []:
            if task not in stock:
                raise SelbenchError(
                    f"bbh_lm_eval tasks: unknown task {task!r}.{did_you_mean(task, list(stock))} "
                    f"Known: {', '.join(stock)}."
                )
        if self.path is None:
            return dict.fromkeys(self.tasks or stock)
        folder = existing_path(self.path, "BIG-Bench Hard folder (bbh/)", folder=True)
        present = {p.stem: p for p in folder.glob("*.json")}
        chosen = self.tasks or [t for t in stock if t in present]
        missing = [t for t in chosen if t not in present]
        if missing or not chosen:
            what = ", ".join(f"{t}.json" for t in missing) or "file of an lm-eval BBH task"
            raise SelbenchError(f"{folder}: no {what}; the official layout holds one <task>.json per task.")
        return {t: present[t] for t in chosen}

    def check(self) -> None:
        self.task_files()

    def fingerprint_params(self) -> dict[str, Any]:
        """Local data by content, not by location."""
        params = super().fingerprint_params()
        files = self.task_files()
        if self.path is not None:
            params.pop("path")
            params["data"] = content_hash({t: p.read_text(encoding="utf-8") for t, p in files.items()})
        return params

    def write_task_configs(self, folder: Path) -> dict[str, str]:
        """One task YAML per BBH task, each including lm-eval's own (prompts, shots, filter) and, for
        local data, reading the task's JSON file: {our task name: BBH task}."""
        stock = stock_tasks(self.variant)
        names = {}
        for task, file in self.task_files().items():
            name = f"selbench_bbh_{self.variant}_{task}"
            template = yaml.safe_load((stock[task].parent / f"_{self.variant}_template_yaml").read_text())
            config: dict[str, Any] = {
                "include": str(stock[task]),
                "task": name,
                "generation_kwargs": template["generation_kwargs"] | {"max_gen_toks": self.max_new_tokens},
            }
            if file is not None:
                config |= {
                    "dataset_path": "json",
                    "dataset_name": None,
                    "dataset_kwargs": {"data_files": {"test": str(file)}, "field": "examples"},
                }
            (folder / f"{name}.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
            names[name] = task
        return names

    def evaluate(self, model: Any, tokenizer: Any, *, heldout: Pool | None = None) -> EvalResult:
        from lm_eval import simple_evaluate
        from lm_eval.models.huggingface import HFLM
        from lm_eval.tasks import TaskManager

        with tempfile.TemporaryDirectory(prefix="selbench-bbh-") as tmp:
            names = self.write_task_configs(Path(tmp))
            lm = HFLM(
                pretrained=model, tokenizer=tokenizer, batch_size=self.batch_size, device=str(model.device)
            )
            with no_download_counts():
                out = simple_evaluate(
                    model=lm,
                    tasks=list(names),
                    limit=self.limit_per_task,
                    task_manager=TaskManager(include_path=tmp, include_defaults=False),
                    log_samples=True,
                    bootstrap_iters=0,
                    verbosity="WARNING",
                )
        correct, answers = {}, []
        for name, task in names.items():
            samples = sorted(out["samples"][name], key=lambda s: s["doc_id"])
            correct[task] = np.array([s["exact_match"] for s in samples], dtype=float) > 0
            answers += [
                {
                    "task": task,
                    "doc_id": s["doc_id"],
                    "generated": s["resps"][0][0],
                    "answer": s["filtered_resps"][0],
                    "target": s["target"],
                }
                for s in samples
            ]
        return EvalResult(
            self.name,
            accuracy_metrics(correct),
            {task: float(c.mean()) for task, c in correct.items()},
            sum(len(c) for c in correct.values()),
            {"variant": self.variant, "examples": answers},
        )
