"""A few training steps on the real default model."""

import json

import numpy as np
import pytest
import torch

from benchmark.data.synthetic import load_synthetic
from benchmark.model_scores import reference_confidence
from benchmark.models import ModelSpec, load_model, resolve_model
from benchmark.settings import TrainingConfig
from benchmark.training import fine_tune

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def examples():
    return load_synthetic(examples_per_task=8, tasks=["copy_word", "add_small"])


def gold_confidence(model, tokenizer, examples):
    prompts, answers = [e.prompt for e in examples], [e.response for e in examples]
    return reference_confidence(
        model, tokenizer, prompts, answers, max_new_tokens=8, max_prompt_tokens=128, batch_size=16
    )[0].mean()


def test_lora_steps_lower_the_loss_and_change_only_adapter_weights(tmp_path, examples):
    model, tokenizer = load_model(resolve_model(ModelSpec.default()))
    before_confidence = gold_confidence(model, tokenizer, examples)
    base = {name: p.detach().clone() for name, p in model.named_parameters()}
    config = TrainingConfig(epochs=2, batch_size=8, learning_rate=5e-4)
    result = fine_tune(model, tokenizer, examples, config, tmp_path, progress=False, merge=False)
    assert result.loss_curve[-1]["loss"] < result.loss_curve[0]["loss"]
    lora_b = [p for name, p in result.model.named_parameters() if "lora_B" in name]
    assert lora_b
    assert all(p.abs().sum() > 0 for p in lora_b)  # initialised at zero, so training moved them
    for name, p in result.model.named_parameters():
        if "lora_" not in name:
            original = name.replace("base_model.model.", "").replace(".base_layer", "")
            torch.testing.assert_close(p, base[original], rtol=0, atol=0)
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    saved = json.loads((tmp_path / "loss.json").read_text())
    assert len(saved["curve"]) == result.steps == 4
    merged = result.model.merge_and_unload().eval()
    assert gold_confidence(merged, tokenizer, examples) > before_confidence + 0.1


def test_training_is_deterministic(tmp_path, examples):
    losses = []
    for run in range(2):
        model, tokenizer = load_model(resolve_model(ModelSpec.default()))
        config = TrainingConfig(max_steps=2, batch_size=4, save_model=False)
        losses.append(
            [
                c["loss"]
                for c in fine_tune(
                    model, tokenizer, examples, config, tmp_path / str(run), progress=False
                ).loss_curve
            ]
        )
    np.testing.assert_array_equal(losses[0], losses[1])


def test_a_cell_record_keeps_the_loss_curve_of_min_steps_and_the_cut_counts(tmp_path, examples):
    from runners.harness import train_and_evaluate

    resolved = resolve_model(ModelSpec.default())
    config = TrainingConfig(epochs=1, min_steps=3, batch_size=8, max_length=48, save_model=False)
    record = train_and_evaluate(resolved, None, examples[:4], config, [], None, tmp_path, progress=False)
    training = record["training"]
    assert training["steps"] == 3  # one epoch of 4 examples is 1 step: raised to min_steps
    assert [c["step"] for c in training["loss_curve"]] == [1, 2, 3]
    assert (
        training["prompts_cut"] + training["responses_cut"] > 0
    )  # 48 tokens cut the chat template's prompts
    assert record["evaluation_precision"] == "float32"
