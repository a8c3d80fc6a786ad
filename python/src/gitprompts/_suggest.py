"""`(did you mean "x"?)`, worded and chosen as on the TypeScript side."""

from __future__ import annotations

from typing import Iterable, List, Optional


def _edit_distance(a: str, b: str, limit: int) -> int:
    # Levenshtein with a swap of neighbours as one edit, and an early exit past `limit`.
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before_previous: List[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i]
        row_min = i
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before_previous[j - 2] + 1)
            current.append(value)
            row_min = min(row_min, value)
        if row_min > limit:
            return limit + 1
        before_previous = previous
        previous = current
    return previous[len(b)]


def closest_match(word: str, candidates: Iterable[str]) -> Optional[str]:
    """The candidate closest to `word`, if one is close enough to be a likely typo."""
    lower = word.lower()
    limit = max(1, min(3, len(word) // 3))
    best: Optional[str] = None
    best_distance = limit + 1
    for candidate in candidates:
        distance = _edit_distance(lower, candidate.lower(), limit)
        if distance < best_distance:
            best, best_distance = candidate, distance
    return best


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean "x"?)` when a close candidate exists, else ""."""
    match = closest_match(word, candidates)
    return "" if match is None else f' (did you mean "{match}"?)'
