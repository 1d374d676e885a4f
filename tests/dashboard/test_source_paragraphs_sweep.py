"""The source page's one sweep marks the same pieces as testing every span everywhere."""

from __future__ import annotations

import itertools
import random

import pytest

from commitments import passages
from commitments.models import Citation
from dashboard.sources import source_paragraphs


def _every_span_everywhere(text, citations):
    """The marking written plainly: every span tested against every paragraph and piece."""
    spans = [(c, c.start, c.end) for c in citations if c.start is not None and c.end is not None]
    result = []
    for p in passages.paragraphs(text):
        cuts = {p.start, p.end}
        for _c, left, right in spans:
            if left < p.end and right > p.start:
                cuts.update({max(left, p.start), min(right, p.end)})
        pieces = []
        for left, right in itertools.pairwise(sorted(cuts)):
            covering = [c.pk for c, s, e in spans if s <= left and e >= right]
            starts = [c.pk for c, s, _e in spans if s == left and c.pk in covering]
            pieces.append((text[left:right], covering, starts))
        result.append((p.number, p.start, pieces))
    return result


@pytest.mark.parametrize("seed", range(30))
def test_the_sweep_marks_what_the_plain_marking_marks(seed):
    rng = random.Random(seed)
    text = "\n\n".join("word " * rng.randint(1, 12) for _ in range(rng.randint(1, 15)))
    citations = []
    for pk in range(1, rng.randint(0, 25) + 1):
        start = rng.randrange(len(text))
        end = rng.randint(start + 1, min(len(text), start + rng.randint(1, 80)))
        placed = rng.random() > 0.1
        citations.append(
            Citation(pk=pk, quote="q", start=start if placed else None, end=end if placed else None)
        )
    rng.shuffle(citations)
    swept = [
        (
            p.number,
            p.start,
            [(x.text, [c.pk for c in x.citations], [c.pk for c in x.starts]) for x in p.pieces],
        )
        for p in source_paragraphs(text, citations)
    ]
    assert swept == _every_span_everywhere(text, citations)
