"""MMLU through lm-evaluation-harness, on local release files or the hub.

lm-eval's stock ``mmlu`` group reads ``cais/mmlu`` from the hub and cannot be pointed at local files
(lm-eval issue #2394), so the 57 subject tasks and their group are generated here, with lm-eval's own
prompts (``mmlu`` for letter, ``mmlu_continuation`` for cloze), over JSON copies of the chosen questions.
The model is evaluated in memory through an ``HFLM`` wrapper.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmark.data.files import no_download_counts
from benchmark.data.mmlu import MMLUQuestion
from benchmark.evaluation.base import EvalResult, register_evaluator
from benchmark.evaluation.mmlu_base import MMLUEvaluator
from benchmark.evaluation.mmlu_prompts import description
from benchmark.types import Pool

PROMPTS = {
    "letter": {
        "doc_to_text": "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\n"
        "D. {{choices[3]}}\nAnswer:",
        "doc_to_choice": ["A", "B", "C", "D"],
        "doc_to_target": "answer",
    },
    "cloze": {
        "doc_to_text": "Question: {{question.strip()}}\nAnswer:",
        "doc_to_choice": "{{choices}}",
        "doc_to_target": "{{answer}}",
    },
}


def _write_jsonl(path: Path, questions: list[MMLUQuestion]) -> str:
    rows = ({"question": q.question, "choices": list(q.choices), "answer": q.answer} for q in questions)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def write_task_configs(
    folder: Path, test: list[MMLUQuestion], shots: dict[str, list[MMLUQuestion]], fmt: str
) -> tuple[str, list[str]]:
    """lm-eval task YAMLs (one per subject, one group) over JSONL copies of the questions: (group, tasks)."""
    tasks = []
    for subject, few in shots.items():
        data_files = {
            "test": _write_jsonl(folder / f"{subject}_test.jsonl", [q for q in test if q.subject == subject])
        }
        if few:
            data_files["dev"] = _write_jsonl(folder / f"{subject}_dev.jsonl", few)
        task = f"selbench_mmlu_{fmt}_{subject}"
        config = {
            "task": task,
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": data_files},
            "test_split": "test",
            "output_type": "multiple_choice",
            "description": description(subject, fmt),
            "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
            "metadata": {"version": 1.0},
            **PROMPTS[fmt],
        }
        if few:
            config |= {"fewshot_split": "dev", "fewshot_config": {"sampler": "first_n"}}
        (folder / f"{task}.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        tasks.append(task)
    group = f"selbench_mmlu_{fmt}"
    group_config = {
        "group": group,
        "task": tasks,
        "metadata": {"version": 1.0},
        "aggregate_metric_list": [{"metric": "acc", "weight_by_size": True}],
    }
    (folder / f"{group}.yaml").write_text(yaml.safe_dump(group_config, sort_keys=False), encoding="utf-8")
    return group, tasks


@register_evaluator("mmlu")
class MMLULmEval(MMLUEvaluator):
    """MMLU through lm-eval's simple_evaluate (letter: lm-eval's mmlu; cloze: mmlu_continuation)."""

    def evaluate(self, model: Any, tokenizer: Any, *, heldout: Pool | None = None) -> EvalResult:
        from lm_eval import simple_evaluate
        from lm_eval.models.huggingface import HFLM
        from lm_eval.tasks import TaskManager

        test, shots = self.questions()
        with tempfile.TemporaryDirectory(prefix="selbench-lm-eval-") as tmp:
            group, tasks = write_task_configs(Path(tmp), test, shots, self.format)
            lm = HFLM(
                pretrained=model, tokenizer=tokenizer, batch_size=self.batch_size, device=str(model.device)
            )
            with no_download_counts():  # the questions are in local files written above
                out = simple_evaluate(
                    model=lm,
                    tasks=[group],
                    num_fewshot=self.num_fewshot,
                    task_manager=TaskManager(include_path=tmp, include_defaults=False),
                    log_samples=True,
                    bootstrap_iters=0,
                    verbosity="WARNING",
                )
        logprobs = []
        for task in tasks:  # tasks and questions are both in sorted subject order
            samples = sorted(out["samples"][task], key=lambda s: s["doc_id"])
            logprobs += [[float(r[0]) for r in s["filtered_resps"]] for s in samples]
        return self.result(test, np.array(logprobs), lm_eval_group_acc=out["results"][group]["acc,none"])
