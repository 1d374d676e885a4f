"""The agreement page's "Publication" panel and the overview's "Awaiting review" list.

The steps themselves are the publishing service's (through
:class:`commitments.forms.PublicationChangeForm`); this module only says what the panel shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from commitments.choices import PUBLICATION_BUTTONS, PublicationAction
from commitments.forms import PublicationChangeForm
from commitments.models import Agreement, PublicationEvent
from commitments.selectors import publication_events
from commitments.services.publishing import publication_steps, review_required
from commitments.translations import reader_language
from commitments.visibility import is_public
from core.roles import can_write


@dataclass(frozen=True)
class PublicationPanel:
    """What the panel shows: the state, the latest steps, and the buttons an editor has."""

    agreement: Agreement
    events: list[PublicationEvent]
    buttons: list[tuple[str, str]]
    form: PublicationChangeForm | None
    public_url: str | None
    review_required: bool


def public_agreement_url(agreement: Agreement, language: str | None = None) -> str:
    """Return the path of the agreement's page on the public site, in ``language``."""
    lang = reader_language(language)
    return reverse("public:agreement", kwargs={"lang": lang, "key": agreement.key})


def publication_panel(
    *, agreement: Agreement, user: Any, form: PublicationChangeForm | None = None
) -> PublicationPanel:
    """Return the panel of ``agreement`` as ``user`` sees it; ``form`` is a refused step."""
    editor = can_write(user)
    buttons = (
        [
            (action, str(PUBLICATION_BUTTONS[PublicationAction(action)]))
            for action in publication_steps(agreement)
        ]
        if editor
        else []
    )
    if editor and form is None:
        form = PublicationChangeForm(agreement=agreement)
    return PublicationPanel(
        agreement=agreement,
        events=publication_events(agreement=agreement),
        buttons=buttons,
        form=form if editor else None,
        public_url=public_agreement_url(agreement) if is_public(agreement) else None,
        review_required=review_required(),
    )
