"""The mail writer writes, byte for byte, what Django's SMTP backend sends for the same message."""

from __future__ import annotations

import pytest
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.message import BadHeaderError, sanitize_address

from core.mime import MailWriter

BOUNDARY = "===============1234567890123456789=="
LONG_LINE = "<p>" + "é" * 600 + "</p>"  # 1,207 bytes: quoted-printable


def _django(message: EmailMessage) -> tuple[str, list[str], bytes, str]:
    """Return what Django's SMTP backend sends for ``message``, with our boundary, and its date."""
    mime = message.message()
    if mime.is_multipart():
        mime.set_boundary(BOUNDARY)
    sender = sanitize_address(message.from_email, "utf-8")
    recipients = [sanitize_address(address, "utf-8") for address in message.recipients()]
    return sender, recipients, mime.as_bytes(linesep="\r\n"), str(mime["Date"])


def _mail(
    *,
    subject: str = "[Due in 7 days] Ministerial meeting",
    text: str = "This commitment is due in 7 days.\n\nOpen it: https://x.example/c/1/\n",
    html: str = "<!DOCTYPE html>\n<p>This commitment is due in 7 days.</p>\n",
    to: str = "watcher@example.org",
    headers: dict[str, str] | None = None,
    **options: object,
) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[to],
        headers={"Message-ID": "<alert.1.2.20260426.7@commitment-tracker>"}
        | {"Auto-Submitted": "auto-generated"}
        | (headers or {}),
        **options,  # type: ignore[arg-type]
    )
    message.attach_alternative(html, "text/html")
    return message


HOSTILE = {
    "english": {},
    "french": {
        "subject": "[Échéance dans 7 jours] Réunion ministérielle « au sommet »",
        "text": "Cet engagement arrive à échéance dans 7 jours.\n\nÉtats-Unis\u202f: 550\xa0Md$\n",
        "html": '<html lang="fr">\n<p>Ministère des Affaires étrangères du Japon</p>\n',
    },
    "long ASCII subject": {"subject": "[Overdue 3 days] " + "Investment in harbours " * 8},
    "long French subject": {"subject": "[En retard de 3 jours] " + "Réunion à Tōkyō " * 9},
    "subject of spaces and tabs": {"subject": "  a\t\tb   c  "},
    "control characters": {
        "subject": "Title\x0bwith\x0cbreaks\x1c",
        "headers": {"X-Note": "a\x0bb\x1dc"},
    },
    "lines over 998 bytes": {"html": f"<html>\n{LONG_LINE}\n</html>\n", "text": LONG_LINE},
    "CR, CRLF, no final newline": {"text": "one\rtwo\r\nthree\n\nfour", "html": "a\r\nb"},
    "boundary-like lines": {"text": "--\n--===============1==\n-- \n", "html": "--\n"},
    "quoted display name": {"to": '"Dupont, Jean" <jean.dupont@example.org>'},
    "non-ASCII name and domain": {"to": "Jérôme Ünal <jerome@exämple.org>"},
    "long address": {"to": "a-very-long-local-part-" * 4 + "@example.org"},
    "recipient header overridden": {"headers": {"To": "Undisclosed <list@example.org>"}},
    "date given": {"headers": {"Date": "Sun, 26 Apr 2026 03:00:00 -0000"}},
    "only whitespace": {"text": " \n", "html": "\t"},
}


@pytest.mark.parametrize("case", HOSTILE.values(), ids=HOSTILE.keys())
def test_writes_the_bytes_django_sends(settings, case):
    settings.DEFAULT_FROM_EMAIL = "Commitment Tracker <tracker@example.org>"
    message = _mail(**case)
    sender, recipients, data, date = _django(message)

    assert MailWriter().write(message, date=date, boundary=BOUNDARY) == (sender, recipients, data)


def test_recipients_sharing_words_each_get_what_django_sends_them():
    writer = MailWriter()
    for to in ("one@example.org", "Two <two@example.org>", "trois@exämple.org"):
        message = _mail(to=to, headers={"Message-ID": f"<{to.split('@')[0][-3:]}@x>"})
        sender, recipients, data, date = _django(message)
        assert writer.write(message, date=date, boundary=BOUNDARY) == (sender, recipients, data)


def test_draws_a_boundary_no_body_contains_and_dates_the_mail_now():
    data = MailWriter().write(_mail(text="--===============", html="<p>x</p>"))[2]

    head, _, body = data.partition(b"\r\n\r\n")
    boundary = head.split(b'boundary="')[1].split(b'"')[0]
    assert body.count(b"--" + boundary) == 3
    assert b"\r\nDate: " in head


@pytest.mark.parametrize(
    "message",
    [
        _mail(cc=["cc@example.org"]),
        _mail(reply_to=["reply@example.org"]),
        EmailMessage(
            subject="Plain",
            body="Only text.\n",
            to=["x@example.org"],
            headers={"Message-ID": "<1@x>"},
        ),
    ],
    ids=["cc", "reply-to", "no alternative"],
)
def test_leaves_other_messages_to_django(message):
    message.extra_headers["Date"] = "Sun, 26 Apr 2026 03:00:00 -0000"
    sender, recipients, data, _date = _django(message)

    assert MailWriter().write(message, boundary=BOUNDARY) == (sender, recipients, data)


def test_a_message_without_its_own_message_id_gets_djangos():
    message = _mail()
    del message.extra_headers["Message-ID"]

    head = MailWriter().write(message)[2].partition(b"\r\n\r\n")[0]
    assert b"\r\nMessage-ID: <" in head


@pytest.mark.parametrize(
    "case",
    [{"subject": "Injected\nBcc: victim@example.org"}, {"headers": {"X-Note": "a\r\nb"}}],
)
def test_refuses_a_header_injection_as_django_does(case):
    with pytest.raises(BadHeaderError):
        _mail(**case).message()
    with pytest.raises(BadHeaderError):
        MailWriter().write(_mail(**case))


def test_refuses_text_utf8_cannot_encode_as_django_does():
    with pytest.raises(UnicodeEncodeError):
        _mail(text="lone \ud800 surrogate").message().as_bytes()
    with pytest.raises(UnicodeEncodeError):
        MailWriter().write(_mail(text="lone \ud800 surrogate"))
