"""Shared source content: which examples reuse the same passage, question or article.

Collections like FLAN render one source record under several templates, so a record-level split puts
the same passage in the pool (under one template) and in the held-out split (under another): held-out
accuracy then rewards memorisation. Two examples share content when they share a word 8-gram that is
not boilerplate of their template (an 8-gram in at least ``boilerplate_share`` of a template's examples
is the template's own text). Groups are the connected components of that relation; a leak-free split
assigns whole groups to one side.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from benchmark.types import Example

SHINGLE_WORDS = 8
BOILERPLATE_SHARE = 0.1
_WORD = re.compile(r"\w+")
_MIX = np.random.default_rng(0x5E1BE7C4).integers(1, 2**63, size=SHINGLE_WORDS, dtype=np.uint64) | 1


def _windows(word_ids: np.ndarray) -> np.ndarray:
    """64-bit hashes of the word ``SHINGLE_WORDS``-grams at each start position (a shorter text: one)."""
    n = SHINGLE_WORDS
    if len(word_ids) == 0:
        return np.empty(0, dtype=np.uint64)
    if len(word_ids) < n:
        word_ids = np.concatenate([word_ids, np.zeros(n - len(word_ids), dtype=np.uint64)])
    windows = np.lib.stride_tricks.sliding_window_view(word_ids, n)
    with np.errstate(over="ignore"):
        h = (windows * _MIX).sum(axis=1, dtype=np.uint64)
        h ^= h >> np.uint64(31)
        h *= np.uint64(0x9E3779B97F4A7C15)
    return h


def _content_windows(hashes: np.ndarray, boilerplate: np.ndarray) -> np.ndarray:
    """The hashes of the windows that touch no word of a boilerplate window: the prompt minus its
    template's text, so a shingle that spans template and content (the template's last words and a
    passage's first) links nothing."""
    n = SHINGLE_WORDS
    covered = np.zeros(len(hashes) + n, dtype=np.int64)
    starts = np.flatnonzero(boilerplate)
    np.add.at(covered, starts, 1)
    np.add.at(covered, starts + n, -1)
    words = np.cumsum(covered)[: len(hashes) + n - 1] > 0  # word positions inside a boilerplate window
    touched = np.r_[0, np.cumsum(words)]
    clean = touched[n : n + len(hashes)] == touched[: len(hashes)]
    return np.unique(hashes[clean])


@dataclass(frozen=True)
class ContentIndex:
    """Per example, the hashes of its content shingles (boilerplate removed): rows of (example, hash)."""

    example: np.ndarray  # (R,) int64
    shingle: np.ndarray  # (R,) uint64
    size: int  # number of examples indexed

    def groups(self) -> np.ndarray:
        """(size,) int64 group id of each example: examples sharing a content shingle, transitively."""
        order = np.lexsort((self.example, self.shingle))
        ex, sh = self.example[order], self.shingle[order]
        same = sh[1:] == sh[:-1]  # consecutive rows of one shingle: link their examples in a chain
        a, b = ex[:-1][same], ex[1:][same]
        graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(self.size, self.size))
        return connected_components(graph, directed=False)[1].astype(np.int64)


def content_index(examples: Sequence[Example], boilerplate_share: float = BOILERPLATE_SHARE) -> ContentIndex:
    """Index the prompts' content shingles; a template's boilerplate is read off its own examples."""
    vocabulary: dict[str, int] = {}
    templates: dict[str, int] = {}
    windows, template_of = [], []
    for ex in examples:
        words = _WORD.findall(ex.prompt.lower())
        ids = np.fromiter((vocabulary.setdefault(w, len(vocabulary) + 1) for w in words), np.uint64)
        windows.append(_windows(ids))
        template_of.append(templates.setdefault(ex.template_or_task, len(templates)))
    # in how many examples of its template each shingle occurs: keys mix template and shingle
    salts = [np.uint64(t * 0x9E3779B97F4A7C15 % 2**64) for t in range(len(templates))]
    keyed = [np.unique(w) ^ salts[t] for w, t in zip(windows, template_of, strict=True)]
    keys, counts = np.unique(np.concatenate(keyed) if keyed else np.empty(0, np.uint64), return_counts=True)
    template_size = np.bincount(np.array(template_of, dtype=np.int64), minlength=len(templates))
    threshold = np.maximum(2, np.ceil(boilerplate_share * template_size))
    content = []
    for w, t in zip(windows, template_of, strict=True):
        seen = counts[np.searchsorted(keys, w ^ salts[t])]
        content.append(_content_windows(w, seen >= threshold[t]))
    sizes = np.array([len(c) for c in content], dtype=np.int64)
    example = np.repeat(np.arange(len(examples), dtype=np.int64), sizes)
    shingle = np.concatenate(content) if content else np.empty(0, dtype=np.uint64)
    return ContentIndex(example, shingle, len(examples))


@dataclass(frozen=True)
class Leakage:
    """Held-out examples whose content also appears in the pool."""

    heldout_examples: int
    leaked_examples: int
    leaked_groups: int  # content groups (of pool and held-out together) present on both sides
    examples_with_same_answer: int  # leaked held-out examples whose response a sharing pool example has

    @property
    def rate(self) -> float:
        return self.leaked_examples / self.heldout_examples if self.heldout_examples else 0.0


def leakage(
    pool: Sequence[Example], heldout: Sequence[Example], reference: Sequence[Example] = ()
) -> Leakage:
    """Overlap between ``pool`` and ``heldout``; boilerplate is read off ``reference`` too (the whole
    source the two were cut from, so that a template's text counts as boilerplate however few of its
    examples each side holds)."""
    both = [*pool, *heldout]
    seen = {ex.uid for ex in both}
    extra = [ex for ex in reference if ex.uid not in seen]
    index = content_index([*both, *extra])
    keep = index.example < len(both)
    example, shingle = index.example[keep], index.shingle[keep]
    in_pool = example < len(pool)
    pool_shingles = np.unique(shingle[in_pool])
    leaked_rows = ~in_pool & np.isin(shingle, pool_shingles)
    leaked = np.unique(example[leaked_rows])
    groups = ContentIndex(example, shingle, len(both)).groups()
    shared_groups = np.intersect1d(groups[: len(pool)], groups[len(pool) :])
    answers: dict[int, set[str]] = {}
    for i in range(len(pool)):
        answers.setdefault(int(groups[i]), set()).add(pool[i].response)
    same = sum(both[i].response in answers.get(int(groups[i]), ()) for i in leaked)
    return Leakage(len(heldout), len(leaked), len(shared_groups), int(same))
