"""Benchmark the text parser: time per call on passages of growing length, against dateparser.

    .venv/bin/python bench/parse.py [--calls 300]

The CSV import calls the parser once a row and the workbench once a selected passage, so a
call must stay small beside the row's own work. For each passage (a short phrase, a
paragraph, three paragraphs of the seeds' French) it prints our time per call, and the time
``dateparser.search.search_dates`` takes to read the same text in the same process (the
library that reads absolute dates, which does not read deadline phrases, targets or
effective dates), and the ratio ours / dateparser. Needs no database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

import django

django.setup()

from dateparser.search import search_dates  # noqa: E402

from commitments.parsing import propose  # noqa: E402

ANCHOR = dt.date(2025, 10, 28)
PARAGRAPH = (
    "Les deux pays prévoient d’apporter un soutien financier à des projets sélectionnés "
    "dans les six mois. Le Japon s’est engagé à $550 milliards d’investissements, et les "
    "États-Unis ont réduit les tarifs à 15 %, avec effet rétroactif à août. "
)
PASSAGES = {
    "phrase": "dans les 180 jours",
    "paragraph": PARAGRAPH,
    "three paragraphs": PARAGRAPH * 3,
}


def per_call(function, calls: int) -> float:
    function()
    started = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - started) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    print(f"{'passage':<18} {'chars':>6} {'ours ms':>9} {'dateparser ms':>14} {'ratio':>7}")
    for name, text in PASSAGES.items():
        ours = per_call(lambda text=text: propose(text, lang="fr", anchor=ANCHOR), args.calls)
        theirs = per_call(
            lambda text=text: search_dates(text, languages=["fr"]), max(args.calls // 10, 10)
        )
        print(
            f"{name:<18} {len(text):>6} {ours * 1000:>9.3f} {theirs * 1000:>14.3f} "
            f"{ours / theirs:>7.2f}"
        )


if __name__ == "__main__":
    main()
