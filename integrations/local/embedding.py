"""A deterministic, dependency-free text embedding for the local vector store and memory.

Feature hashing of lower-cased word unigrams and bigrams into a fixed number of dimensions,
normalised to unit length: texts that share words get a high cosine. No model, no network, the
same vector in every process, which is what the no-service default and the tests need. Pinecone
uses it too when a record carries no vector of its own, so both stores agree on dimensions.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Sequence

DIMENSIONS = 256
_WORD = re.compile(r"[a-z0-9]+")


def _bucket(token: str) -> tuple[int, float]:
    digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
    index = int.from_bytes(digest[:4], "big") % DIMENSIONS
    sign = 1.0 if digest[4] & 1 else -1.0
    return index, sign


def embed(text: str) -> list[float]:
    words = _WORD.findall(text.lower())
    tokens = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    vector = [0.0] * DIMENSIONS
    for token in tokens:
        index, sign = _bucket(token)
        vector[index] += sign
    return normalise(vector)


def normalise(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:
        return [0.0] * len(vector)
    return [v / norm for v in vector]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine of two unit vectors (a dot product); 0 when the dimensions differ."""
    if len(a) != len(b):
        return 0.0
    return float(sum(x * y for x, y in zip(a, b, strict=True)))
