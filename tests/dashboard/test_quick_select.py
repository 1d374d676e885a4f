"""The dashboard's quick select writes what Django's select template writes (issue 16)."""

from __future__ import annotations

import pytest
from django import forms

from dashboard.forms import QuickSelect, dashboard_widgets

CHOICES = [
    ("", "---------"),
    (1, 'Japan & <the> "US"'),
    ("Group «é»", [("a", "A"), ("b", "B & C")]),
    (3, "Three"),
]


@pytest.mark.parametrize("value", [None, "", 1, "1", "b", 99])
@pytest.mark.parametrize(
    "attrs", [None, {"class": "x", "required": True, "disabled": False, "data-n": 3}]
)
def test_the_quick_select_writes_what_django_writes(value, attrs):
    django_html = forms.Select(choices=CHOICES).render("evidence", value, attrs=attrs)
    quick_html = QuickSelect(choices=CHOICES).render("evidence", value, attrs=attrs)
    assert quick_html == django_html


def test_a_form_field_renders_the_same_through_the_quick_select():
    class Form(forms.Form):
        pick = forms.ChoiceField(choices=CHOICES, required=True)
        day = forms.DateField()

    plain, quick = Form(initial={"pick": "a"}), dashboard_widgets(Form(initial={"pick": "a"}))
    assert type(quick.fields["pick"].widget) is QuickSelect
    assert str(quick["pick"]) == str(plain["pick"])
