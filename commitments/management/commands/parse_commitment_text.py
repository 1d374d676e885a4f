"""Print what the text parser proposes for a text, or for each JSON line read on stdin."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commitments.parsing import LANGUAGES, propose
from commitments.parsing.requests import ParseRequest, RequestError, read_request


class Command(BaseCommand):
    help = (
        "Propose a deadline rule, an effective-from date and a target for a French or English "
        'text, as one JSON object: parse_commitment_text --lang fr --anchor 2025-10-28 "TEXT". '
        'With --jsonl, read one {"lang", "anchor", "text"} object per line on stdin and write '
        "one answer per line, in order; a bad line gets an error line and the command exits 1."
    )
    #: ``call_command(..., stdin=StringIO(...))`` feeds --jsonl in tests.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("text", nargs="?", help="The text to read (not with --jsonl).")
        parser.add_argument("--lang", help=f"The text's language: {', '.join(LANGUAGES)}.")
        parser.add_argument(
            "--anchor",
            help="The agreement's date, YYYY-MM-DD: relative rules count from it.",
        )
        parser.add_argument(
            "--jsonl",
            action="store_true",
            help='Read {"lang", "anchor", "text"} objects, one per line, on stdin.',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["jsonl"]:
            if options["text"] is not None:
                raise CommandError("text: give the texts on stdin with --jsonl, not as argument.")
            self._lines(options.get("stdin") or sys.stdin)
            return
        if options["text"] is None:
            raise CommandError('text: give the text to read, e.g. "dans les 180 jours".')
        try:
            request = read_request(options["text"], options["lang"], options["anchor"])
        except RequestError as exc:
            raise CommandError(f"--{exc.field}: {exc.message}") from None
        self._answer(request)

    def _answer(self, request: ParseRequest) -> None:
        proposals = propose(request.text, lang=request.lang, anchor=request.anchor)
        self.stdout.write(json.dumps(proposals.as_json(), ensure_ascii=False))

    def _lines(self, stream: Any) -> None:
        bad = 0
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                request = _line_request(line)
            except RequestError as exc:
                bad += 1
                self.stdout.write(
                    json.dumps({"error": f"line {number}: {exc}"}, ensure_ascii=False)
                )
                continue
            self._answer(request)
        if bad:
            raise CommandError(f"{bad} line(s) could not be read; see their error lines.")


def _line_request(line: str) -> ParseRequest:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RequestError("line", f"not a JSON object ({exc.msg})") from None
    if not isinstance(data, dict):
        raise RequestError("line", 'not a JSON object with "lang", "anchor" and "text"')
    unknown = sorted(set(data) - {"lang", "anchor", "text"})
    if unknown:
        raise RequestError(unknown[0], 'unknown key; a line holds "lang", "anchor", "text"')
    if "text" not in data:
        raise RequestError("text", "missing")
    return read_request(data["text"], data.get("lang"), data.get("anchor"))
