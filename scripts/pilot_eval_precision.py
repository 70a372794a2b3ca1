"""The flan_v2 pilot's precision check (issue 13): does bfloat16 autocast change held-out metrics of a
model after a short LoRA update? Base model and one trained model, each evaluated in float32 and under
bfloat16 autocast, merged and unmerged, on 5 held-out examples of each of the 22 tasks first considered.
The numbers in results/flan_v2/README.md come from this script with the held-out evaluator of the time
(greedy generation for open answers; exact_match: generate here).

    SELBENCH_DATA_DIR=../shared/data python scripts/pilot_eval_precision.py
"""

import time

import numpy as np
import torch

from benchmark.data import PoolSpec, load_pool
from benchmark.evaluation.heldout import HeldoutAccuracy
from benchmark.models import ModelSpec, load_model, resolve_model
from benchmark.settings import TrainingConfig
from benchmark.training import fine_tune

TASKS = (
    "ag_news",
    "amazon_polarity",
    "app_reviews",
    "cnn_dailymail_3_0_0",
    "common_gen",
    "commonsense_qa",
    "cosmos_qa",
    "dream",
    "duorc_ParaphraseRC",
    "duorc_SelfRC",
    "gigaword",
    "glue_mrpc",
    "glue_qqp",
    "kilt_tasks_hotpotqa",
    "multi_news",
    "paws_labeled_final",
    "quarel",
    "samsum",
    "sciq",
    "wiki_bio",
    "xsum",
    "yelp_review_full",
)


def main() -> None:
    torch.set_num_threads(2)
    spec = PoolSpec(
        "flan",
        {"path": "../shared/data/flan_t0", "task_level": "coarse"},
        tasks=tuple(TASKS),
        heldout_per_task=25,
        max_examples=1100,
    )
    loaded = load_pool(spec)
    held = loaded.heldout
    sample = held.subset(
        [i for t in range(len(held.tasks)) for i in np.flatnonzero(held.task_ids() == t)[:5]]
    )
    model, tokenizer = load_model(resolve_model(ModelSpec.default()))
    evaluator = HeldoutAccuracy(exact_match="generate", max_prompt_tokens=192, progress=False)

    def run(lm, bf16: bool, label: str) -> None:
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            result = evaluator.evaluate(lm, tokenizer, heldout=sample)
        shown = {k: round(v, 4) for k, v in result.metrics.items() if not k.endswith("stderr")}
        print(f"{label}: {time.perf_counter() - start:.1f} s {shown}", flush=True)

    run(model, False, "base float32")
    run(model, True, "base bfloat16")
    picked = np.random.default_rng(0).choice(len(loaded.pool), 36, replace=False)
    training = TrainingConfig(epochs=2, min_steps=24, max_length=256, warmup_ratio=0.1, save_model=False)
    examples = [loaded.pool.examples[i] for i in picked]
    trained = fine_tune(
        model, tokenizer, examples, training, "/tmp/precision-run", progress=False, merge=False
    )
    run(trained.model, True, "trained bfloat16, unmerged")
    run(trained.model, False, "trained 'float32', unmerged (accelerate's autocast wrapper still on)")
    merged = trained.model.merge_and_unload().eval()
    run(merged, False, "trained float32, merged")
    run(merged, True, "trained bfloat16, merged")


if __name__ == "__main__":
    main()
