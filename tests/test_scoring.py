"""Scorer behaviour that needs no model run: settings, sampling, the cache around the model."""

import numpy as np
import pytest

from benchmark.data import PoolSpec, load_pool
from benchmark.errors import SelbenchError
from benchmark.models import ModelSpec, resolve_model
from benchmark.scoring import Scorer, task_sample
from benchmark.settings import ScorerConfig


@pytest.fixture(scope="module")
def pool():
    return load_pool(
        PoolSpec(options={"examples_per_task": 10, "tasks": ["copy_word", "add_large", "parity"]})
    ).pool


def test_missing_model_directory_names_the_path(tmp_path):
    missing = tmp_path / "no-model"
    with pytest.raises(SelbenchError, match=f"{missing}: no such model directory"):
        resolve_model(ModelSpec(str(missing)))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SelbenchError, match="no weight files"):
        resolve_model(ModelSpec(str(tmp_path / "empty")))


def test_default_model_provenance_says_it_is_a_quantised_approximation():
    resolved = resolve_model(ModelSpec.default())
    assert resolved.provenance["gguf_file"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert "approximation" in resolved.provenance["weights"]
    assert len(resolved.fingerprint) == 64


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("confidence", "oracle", "use one of label_free, reference"), ("batch_size", 0, "positive integer"),
     ("embedding", "bert", "use one of sentence_transformers")],
)  # fmt: skip
def test_config_errors(field, value, message):
    with pytest.raises(SelbenchError, match=message):
        ScorerConfig(**{field: value})


def test_task_sample_is_seeded_and_capped_per_task(pool):
    sample = task_sample(pool, 4, seed=1)
    assert np.bincount(pool.task_ids()[sample]).tolist() == [4, 4, 4]
    np.testing.assert_array_equal(sample, task_sample(pool, 4, seed=1))
    assert not np.array_equal(sample, task_sample(pool, 4, seed=2))
    assert len(task_sample(pool, 100, seed=1)) == len(pool)


class CountingScorer(Scorer):
    """A scorer whose model pass is replaced by a deterministic fake that counts its calls."""

    calls = 0

    def _confidence_of(self, pool, indices):
        CountingScorer.calls += 1
        values = np.array([len(pool.examples[i].prompt) % 7 / 7 for i in indices])
        return values, 1 - values, 10 * len(indices)  # (confidence, entropy, tokens)


def test_second_call_returns_from_cache_without_loading_the_model(pool, tmp_path):
    config = ScorerConfig(cache_dir=str(tmp_path), task_sample_size=5, progress=False)
    CountingScorer.calls = 0
    first = CountingScorer(config).task_confidence(pool)
    conf, _ = CountingScorer(config).confidence(pool)
    assert CountingScorer.calls == 2
    again = CountingScorer(config)
    second = again.task_confidence(pool)
    np.testing.assert_array_equal(again.confidence(pool)[0], conf)
    assert CountingScorer.calls == 2
    assert again._lm is None  # the model was never loaded
    cost = again.cost(frozenset({"confidence", "entropy", "task_confidence"}))  # from the cache entries
    assert cost["tokens"] == 10 * len(pool) + 10 * 5 * len(pool.tasks)
    assert cost["seconds"] >= 0
    np.testing.assert_array_equal(first.mean, second.mean)
    assert first.n.tolist() == [5, 5, 5]
    assert np.all(first.stderr >= 0)


def test_changed_settings_miss_and_corruption_recomputes(pool, tmp_path):
    config = ScorerConfig(cache_dir=str(tmp_path), task_sample_size=5, progress=False)
    CountingScorer.calls = 0
    scorer = CountingScorer(config)
    scorer.task_confidence(pool)
    CountingScorer(ScorerConfig(cache_dir=str(tmp_path), task_sample_size=6, progress=False)).task_confidence(
        pool
    )
    assert CountingScorer.calls == 2
    for entry in scorer.cache.root.iterdir():
        (entry / "mean.npy").write_bytes(b"garbage")
    CountingScorer(config).task_confidence(pool)
    assert CountingScorer.calls == 3


def test_features_computes_exactly_what_is_asked(pool, tmp_path):
    scorer = CountingScorer(ScorerConfig(cache_dir=str(tmp_path), progress=False))
    features = scorer.features(pool, {"task_confidence"})
    assert features.confidence is None
    assert features.embeddings is None
    assert set(features.task_confidence) == set(pool.tasks)
    with pytest.raises(SelbenchError, match="unknown features"):
        scorer.features(pool, {"logits"})


def test_scores_in_another_precision_are_another_cache_entry(pool, tmp_path):
    CountingScorer.calls = 0
    for dtype in ("float32", "bfloat16", "float32"):
        model = ModelSpec.default()
        model = ModelSpec(model.name_or_path, gguf_file=model.gguf_file, dtype=dtype)
        CountingScorer(ScorerConfig(model=model, cache_dir=str(tmp_path), progress=False)).confidence(pool)
    assert CountingScorer.calls == 2  # float32 once, bfloat16 once, float32 again from the cache


class FakeEmbedder:
    calls = 0
    max_seq_length = 8

    @staticmethod
    def tokenizer(prompts, **kwargs):  # as sentence-transformers' tokenizer: token ids per prompt
        return {"input_ids": [p.split()[: kwargs["max_length"]] for p in prompts]}

    def encode(self, prompts, **kwargs):
        FakeEmbedder.calls += 1
        return np.eye(len(prompts), 4, dtype=np.float32)


def test_a_changed_embedder_is_another_cache_entry(pool, tmp_path):
    folder = tmp_path / "embedder"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    weights = folder / "model.safetensors"
    config = ScorerConfig(embedder=str(folder), cache_dir=str(tmp_path / "cache"), progress=False)
    for content in (b"weights v1", b"weights v1", b"weights v2, retrained"):  # same folder name, new content
        weights.write_bytes(content)
        scorer = Scorer(config)
        scorer._embedder = FakeEmbedder()
        scorer.embeddings(pool)
    assert FakeEmbedder.calls == 2
