"""The dashboard's quick widget writers write what Django's widget templates write, and the
menu shows each role the pages it may use without a permission query (issue 16)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django import forms
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django_filters.widgets import CSVWidget

from commitments.filtersets import CommitmentFilterSet
from commitments.models import Commitment
from dashboard.forms import QuickWriter, quick_class, quick_selects
from tests import factories

HOSTILE = 'Japan & <the> "US" \' «é»'
CHOICES = [("", "---------"), (1, HOSTILE), ("g", [("a", "A"), ("b", "B & C")]), (3, "3")]

WIDGETS = [
    forms.Select(choices=CHOICES),
    forms.SelectMultiple(choices=CHOICES),
    forms.NullBooleanSelect(),
    forms.TextInput(),
    forms.NumberInput(),
    forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    forms.EmailInput(),
    forms.URLInput(),
    forms.HiddenInput(),
]
VALUES = [None, "", HOSTILE, 1, "1", ["1", "b"], "b", "true", 0, dt.date(2026, 3, 31)]
ATTRS = [None, {"class": "x", "required": True, "disabled": False, "data-n": 3, "aria-x": HOSTILE}]


def _quick(widget: forms.Widget) -> forms.Widget:
    quick = quick_class(type(widget))
    assert quick is not None, type(widget)
    copied: forms.Widget = forms.Widget.__new__(quick)
    copied.__dict__.update(widget.__dict__)
    return copied


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("attrs", ATTRS)
def test_each_quick_widget_writes_what_django_writes(widget, value, attrs):
    def written(w: forms.Widget) -> str:
        try:
            return w.render("pick", value, attrs=attrs)
        except TypeError as exc:  # a list to a NullBooleanSelect: Django's own error
            return f"raised {exc}"

    assert written(_quick(widget)) == written(widget)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_option_labels_are_localized_as_the_template_localizes_them(language):
    widget = forms.Select(choices=[(1, Decimal("1.5")), (2, dt.date(2026, 3, 31)), (3, 1000)])
    with translation.override(language):
        quick, plain = _quick(widget).render("n", 1), widget.render("n", 1)
    assert quick == plain
    assert ("1,5" if language == "fr" else "1.5") in quick


def test_widgets_that_render_otherwise_keep_their_templates():
    class Custom(forms.Select):
        template_name = "dashboard/_custom_select.html"

    assert quick_class(CSVWidget) is None  # its own render()
    assert quick_class(forms.RadioSelect) is None  # another template
    assert quick_class(forms.Textarea) is None
    assert quick_class(Custom) is None
    plain = forms.Select(choices=CHOICES)
    plain.template_name = "django/forms/widgets/radio.html"  # changed on the instance
    quick = _quick(plain)
    assert quick.render("pick", "1") == plain.render("pick", "1")
    assert "<label>" in quick.render("pick", "1")  # the template's, not the quick select


QUERIES = [
    "",
    "deadline_state=overdue&page=3",
    f"status=in_progress&status=missed&due_before=2026-13-45&due_within=x&q={HOSTILE}"
    "&overdue=true&review_due=false&ordering=-due_date&agreement=999999&obligor=abc",
    "category=nonsense&rating=kept&pace=late&fulfilment_timing=on_time&due_after=2026-01-31",
]


@pytest.mark.django_db
@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_commitment_filters_read_the_same_written_quickly(query, language, agreement, japan):
    """The commitment list's form, every field, bound to good and bad values."""
    factories.commitment_make(agreement=agreement, obligor=japan, title=HOSTILE)

    def form_html(quick: bool) -> str:
        filterset = CommitmentFilterSet(QueryDict(query), queryset=Commitment.objects.all())
        form = quick_selects(filterset.form) if quick else filterset.form
        form.is_valid()
        return "\n".join(f"{field.errors}{field}" for field in form)

    with translation.override(language):
        plain, quick = form_html(False), form_html(True)
    assert quick == plain
    filterset = CommitmentFilterSet(QueryDict(query), queryset=Commitment.objects.all())
    written = [
        name
        for name, field in quick_selects(filterset.form).fields.items()
        if isinstance(field.widget, QuickWriter)
    ]
    assert len(written) >= 13, written  # every filter but the ordering's CSV widget


# The menu (base.html) ------------------------------------------------------------------------

MENU = {"Workbench": "dashboard:workbench_start", "Import": "dashboard:import"}


def _menu(client) -> tuple[set[str], list[str]]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("dashboard:overview")).content.decode()
    nav = page.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    shown = {name for name, url in MENU.items() if f'href="{reverse(url)}"' in nav}
    if f'href="{reverse("admin:index")}"' in nav:
        shown.add("Data entry")
    return shown, [q["sql"] for q in queries.captured_queries if "auth_permission" in q["sql"]]


@pytest.mark.django_db
def test_the_menu_shows_each_role_what_it_may_use(client, editor):
    viewer = factories.user_make(role="Viewers")
    desk_editor = factories.user_make(role="Editors")  # an editor who is not staff
    admin = factories.user_make(superuser=True)
    expected = {
        viewer: (set(), 0),
        desk_editor: ({"Workbench", "Import"}, 0),
        editor: ({"Workbench", "Import", "Data entry"}, 2),  # staff: the admin's permissions
        admin: ({"Workbench", "Import", "Data entry"}, 0),
    }
    for user, (links, permission_queries) in expected.items():
        client.force_login(user)
        shown, queries = _menu(client)
        assert shown == links, user.username
        assert len(queries) == permission_queries, (user.username, queries)
    # What the menu offers, the pages grant.
    client.force_login(desk_editor)
    assert client.get(reverse("dashboard:workbench_start")).status_code == 200
    client.force_login(viewer)
    assert client.get(reverse("dashboard:workbench_start")).status_code == 403
