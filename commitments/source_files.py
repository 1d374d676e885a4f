"""A source's archived original as a download: the one answer the dashboard and the API send.

The original is never served as something a browser would run or render: a PDF goes out as
``application/pdf``, a saved web page and a text as ``text/plain`` (the page then shows as
its source code), always as an attachment, with ``nosniff`` and a sandboxing CSP.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from commitments.choices import ArchiveType
from commitments.models import Source

#: How an original is sent: a PDF as a PDF, a page or a text as plain text (never as HTML).
DOWNLOAD_TYPES = {
    ArchiveType.PDF: "application/pdf",
    ArchiveType.HTML: "text/plain; charset=utf-8",
    ArchiveType.TEXT: "text/plain; charset=utf-8",
}
#: Nothing in a downloaded original may run, even if a browser were to display it.
DOWNLOAD_CSP = "sandbox; default-src 'none'"


def source_has_copy(source: Source) -> bool:
    """Return whether ``source`` has an original or a pasted text to download."""
    return bool(source.original or source.text)


def source_download(source: Source) -> HttpResponseBase:
    """Return the response that sends ``source``'s original, or its pasted text, as a file.

    Raise ``Http404`` when the source has no archived copy or its file is missing.
    """
    stem = get_valid_filename(source.key) or "source"
    response: HttpResponseBase
    if source.original:
        try:
            handle = source.original.open("rb")
        except FileNotFoundError as exc:
            raise Http404(_("The original file is missing from the archive.")) from exc
        kind = ArchiveType(source.content_type) if source.content_type else ArchiveType.TEXT
        name = source.original_name or f"{stem}.{source.original.name.rsplit('.', 1)[-1]}"
        if kind != ArchiveType.PDF:
            # Sent as text, it is named as text: a saved page opens as its source code.
            name = f"{name.rsplit('.', 1)[0]}.txt"
        response = FileResponse(
            handle, as_attachment=True, filename=name, content_type=DOWNLOAD_TYPES[kind]
        )
    elif source.text:
        response = HttpResponse(
            source.text.encode("utf-8"), content_type=DOWNLOAD_TYPES[ArchiveType.TEXT]
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.txt"'
    else:
        raise Http404(_("This source has no archived copy."))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    return response
