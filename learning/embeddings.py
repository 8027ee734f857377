"""A local text embedding for FAQ retrieval: no model download, no network.

Features are word unigrams, word bigrams and character trigrams of each word (so "invoices" and
"invoice", "onboarding" and "on-boarding" still meet), hashed into ``LEARNING_EMBEDDING_DIM`` signed
buckets with sub-linear term frequency. What is stored is that TF vector; inverse document frequency
is applied at search time over the current FAQ set (``idf_weights``), so adding FAQs never leaves old
vectors stale.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence

from django.conf import settings

_WORD = re.compile(r"[a-z0-9]+")
_STOP = "a an and are as at be by can do does for from how i if in is it me my of on or our so that the their them "
_STOP += "then there these this to us was we what when where which who why will with you your"
STOPWORDS = frozenset(_STOP.split())
WEIGHTS = {"w": 1.0, "b": 0.7, "c": 0.5}


def dimensions() -> int:
    return max(16, int(getattr(settings, "LEARNING_EMBEDDING_DIM", 512)))


def tokens(text: str) -> Counter[str]:
    words = [w for w in _WORD.findall((text or "").lower()) if w not in STOPWORDS]
    features: Counter[str] = Counter()
    for word in words:
        features[f"w:{word}"] += 1
        padded = f"#{word}#"
        for i in range(len(padded) - 2):
            features[f"c:{padded[i : i + 3]}"] += 1
    for a, b in itertools.pairwise(words):
        features[f"b:{a} {b}"] += 1
    return features


def _bucket(feature: str, dim: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    return int.from_bytes(digest[:4], "big") % dim, (1.0 if digest[4] & 1 else -1.0)


def embed(text: str, *, dim: int | None = None) -> list[float]:
    """The unit-length, sub-linear TF vector of ``text`` (all zeros for an empty text)."""
    size = dim or dimensions()
    vector = [0.0] * size
    for feature, count in tokens(text).items():
        index, sign = _bucket(feature, size)
        vector[index] += sign * WEIGHTS[feature[0]] * (1.0 + math.log(count))
    return normalise(vector)


def normalise(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector] if norm else [0.0] * len(vector)


def idf_weights(vectors: Sequence[Sequence[float]]) -> list[float]:
    """Per-dimension smoothed inverse document frequency over a set of stored vectors."""
    if not vectors:
        return []
    n = len(vectors)
    size = len(vectors[0])
    df = [0] * size
    for vector in vectors:
        for i, value in enumerate(vector):
            if value:
                df[i] += 1
    return [math.log((1 + n) / (1 + d)) + 1.0 for d in df]


def weighted(vector: Sequence[float], idf: Sequence[float]) -> list[float]:
    if len(vector) != len(idf):
        return list(vector)
    return normalise([v * w for v, w in zip(vector, idf, strict=True)])


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine of two unit vectors; 0 when dimensions differ (a vector from an older dimension setting)."""
    if len(a) != len(b) or not a:
        return 0.0
    return float(sum(x * y for x, y in zip(a, b, strict=True)))
