"""The filters of every commitments-domain list; the API and the dashboard share them.

One FilterSet per list. A value a filter does not know (an unknown status, an agreement id
that does not exist, a date that does not parse, an ordering we do not offer) makes the
filter form invalid; the API answers 400 naming the filter, the dashboard shows the form error.
Every ordering ends with ``id`` so pages never overlap or skip rows.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import (
    RATING_SHOWN_CHOICES,
    AgreementKind,
    Category,
    DeadlineState,
    FulfilmentTiming,
    PaceChoice,
    PartyKind,
    SourceKind,
    Status,
)
from .models import Agreement, Commitment, Party, ProgressUpdate, Source
from .querysets import CommitmentQuerySet, obligor_q, pace_now_q, rating_q, review_due_q
from .translations import LocalizedLabelMixin
from .visibility import public_agreements, public_commitments, public_parties, visible_to


def _choosable(rows: Any, public: Any) -> Any:
    """Return the choices of a filter on rows: all of them, or to an anonymous API caller
    only the public ones, so that a draft's id is as unknown as an id that does not exist.

    django-filter calls it with the request, or with ``None`` where a page (behind its
    login) builds the filter set without one.
    """

    def choices(request: Any) -> QuerySet:
        if request is None:
            return rows()
        return visible_to(getattr(request, "user", None), rows(), public)

    return choices


class StableOrderingFilter(django_filters.OrderingFilter):
    """Order by the chosen fields, then by ``id`` so that equal values keep one order.

    ``offered`` lists the orderings a person picks from the page's select, with plain labels;
    every one of ``fields`` stays valid for API clients, which ask for them by name.
    """

    def __init__(self, *args: Any, offered: Sequence[tuple[str, Any]] = (), **kwargs: Any):
        self.offered = list(offered)
        super().__init__(*args, **kwargs)

    @property
    def field(self) -> forms.Field:
        field = super().field
        if self.offered:
            field.widget.choices = [("", "---------"), *self.offered]
        return field

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        if not {"id", "-id"} & set(ordering):
            ordering.append("id")
        return qs.order_by(*ordering)


class DaysFilter(django_filters.NumberFilter):
    """A whole number of days."""

    field_class = forms.IntegerField


class LocalizedChoiceField(LocalizedLabelMixin, django_filters.fields.ModelChoiceField):
    """A choice of parties or agreements, each named in the reader's language."""


class LocalizedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """A :class:`~django_filters.ModelChoiceFilter` whose options read in the reader's language."""

    field_class = LocalizedChoiceField


class _FiltersCopiedShallowly(dict):
    """A filter set's filters, copied for each request with ``copy.copy``, not deep.

    django-filter deep-copies every filter for every filter set it builds (each filter's
    choices and lazy labels with it), which was a tenth of the API list's time. What a filter
    holds per request is its parent, its model and the form field it builds (``_field``,
    whose choices may depend on the request) and, for a ``method=`` filter, the callable
    bound to it: a shallow copy gets them anew.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        copies = {}
        for name, filter_ in self.items():
            copied = copy.copy(filter_)
            copied.__dict__.pop("_field", None)
            if filter_.method is not None:
                # Bind the copy's method filter to the copy (and so to its parent).
                copied.method = filter_.method
            copies[name] = copied
        return copies


class _FieldsMadeForOneForm(dict):
    """A filter set's form fields, which its form takes as they are instead of deep copies.

    A form deep-copies its class's fields so that two forms never share one; a filter set's
    form class is made for that filter set alone, from fields its own filters have just
    built (see :class:`_FiltersCopiedShallowly`), so nothing else holds them. Copying them
    again (their widgets, choices and querysets) was a twentieth of the API list's time.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return dict(self)


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, its filters copied shallowly for each request."""

    @classmethod
    def get_filters(cls) -> dict[str, Any]:
        return _FiltersCopiedShallowly(super().get_filters())

    def get_form_class(self) -> type[forms.Form]:
        form = super().get_form_class()
        form.base_fields = _FieldsMadeForOneForm(form.base_fields)
        return form


def _search(qs: QuerySet, fields: list[str], value: str) -> QuerySet:
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__icontains": value})
    return qs.filter(condition)


class CommitmentFilterSet(FilterSet):
    """Filter commitments by status, deadline state, agreement, obligor, category and due date."""

    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices,
        distinct=False,
        help_text=_("Recorded status; repeat the parameter for several."),
    )
    deadline_state = django_filters.MultipleChoiceFilter(
        choices=DeadlineState.choices,
        distinct=False,
        help_text=_("Deadline state flagged by the scan; repeat the parameter for several."),
    )
    agreement = LocalizedModelChoiceFilter(
        queryset=_choosable(Agreement.objects.all, public_agreements),
        help_text=_("Id of the agreement."),
    )
    obligor = LocalizedModelChoiceFilter(
        queryset=_choosable(Party.objects.all, public_parties),
        method="filter_obligor",
        help_text=_("Id of a party that must act: the obligor or one of the other obligors."),
    )
    category = django_filters.MultipleChoiceFilter(
        choices=Category.choices,
        distinct=False,
        help_text=_("Category; repeat the parameter for several."),
    )
    due_before = django_filters.DateFilter(
        label=_("Due on or before"),
        field_name="due_date",
        lookup_expr="lte",
        help_text=_("Due on or before this date (YYYY-MM-DD)."),
    )
    due_after = django_filters.DateFilter(
        label=_("Due on or after"),
        field_name="due_date",
        lookup_expr="gte",
        help_text=_("Due on or after this date (YYYY-MM-DD)."),
    )
    overdue = django_filters.BooleanFilter(
        label=_("Overdue"),
        method="filter_overdue",
        help_text=_("Overdue (past due, not closed)"),
    )
    due_within = DaysFilter(
        label=_("Due within (days)"),
        method="filter_due_within",
        min_value=0,
        max_value=3650,
        help_text=_("Open and due from now to this many days ahead (24-hour days)."),
    )
    # Timeliness of fulfilment (issue 12).
    fulfilment_timing = django_filters.MultipleChoiceFilter(
        label=_("Timeliness"),
        choices=FulfilmentTiming.choices,
        distinct=False,
        help_text=_(
            "Fulfilled on time, on time only after an extension, or late; repeat the "
            "parameter for several."
        ),
    )
    # Ratings and progress against pace (issue 13).
    rating = django_filters.MultipleChoiceFilter(
        label=_("Rating"),
        choices=RATING_SHOWN_CHOICES,
        method="filter_rating",
        help_text=_(
            "A current rating of any obligor; not_rated: some obligor is not rated yet. "
            "Repeat the parameter for several."
        ),
    )
    review_due = django_filters.BooleanFilter(
        label=_("Review due"),
        method="filter_review_due",
        help_text=_("A current rating is due for review (true), or none is (false)."),
    )
    pace = django_filters.MultipleChoiceFilter(
        label=_("Pace"),
        choices=PaceChoice.choices,
        method="filter_pace",
        help_text=_(
            "Measured progress against the straight line to the target, today in the "
            "agreement's time zone; repeat the parameter for several."
        ),
    )
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_q",
        max_length=200,
        help_text=_(
            "Search in title, description, key and the agreement's title, in English and in French."
        ),
    )
    ordering = StableOrderingFilter(
        fields=(
            ("due_date", "due_date"),
            ("due_at", "due_at"),
            ("updated", "updated"),
            ("created", "created"),
            ("title", "title"),
            ("key", "key"),
            ("status", "status"),
            ("deadline_state", "deadline_state"),
            ("agreement__date", "agreement_date"),
            ("id", "id"),
        ),
        # What a reader sorts the list by; the API also takes the internal fields above.
        offered=(
            ("due_date", _("Due date, earliest first")),
            ("-due_date", _("Due date, latest first")),
            ("title", _("Title, A to Z")),
            ("status", _("Status")),
            ("deadline_state", _("Deadline state")),
            ("-agreement_date", _("Agreement date, newest first")),
            ("agreement_date", _("Agreement date, oldest first")),
            ("-updated", _("Recently updated first")),
        ),
        label=_("Sort by"),
        help_text=_("Sort by these fields, comma-separated; a leading '-' reverses one."),
    )

    class Meta:
        model = Commitment
        fields = [
            "status",
            "deadline_state",
            "agreement",
            "obligor",
            "category",
            "due_before",
            "due_after",
            "overdue",
            "due_within",
            "rating",
            "review_due",
            "pace",
            "q",
            "ordering",
        ]

    def filter_obligor(self, qs: QuerySet, name: str, value: Party | None) -> QuerySet:
        """Keep the commitments that bind the party, as obligor or as another obligor."""
        return qs.filter(obligor_q(party=value)) if value is not None else qs

    def filter_rating(self, qs: QuerySet, name: str, value: list[str]) -> QuerySet:
        """Keep the commitments with any of these current ratings (or an unrated obligor)."""
        if not value:
            return qs
        condition = Q()
        for rating in value:
            condition |= rating_q(rating=rating)
        return qs.filter(condition)

    def filter_review_due(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Keep the commitments with a rating due for review (``true``) or without (``false``)."""
        if value is None:
            return qs
        return qs.filter(review_due_q()) if value else qs.exclude(review_due_q())

    def filter_pace(self, qs: QuerySet, name: str, value: list[str]) -> QuerySet:
        """Keep the commitments at any of these paces, each on its agreement's today."""
        if not value:
            return qs
        now = timezone.now()
        zones = list(Agreement.objects.order_by().values_list("time_zone", flat=True).distinct())
        condition = Q()
        for pace in value:
            condition |= pace_now_q(pace=pace, now=now, time_zones=zones)
        return qs.filter(condition)

    def filter_q(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """Match the words anywhere in the title, description, key or agreement title."""
        return _search(
            qs,
            [
                "title",
                "title_fr",
                "description",
                "description_fr",
                "key",
                "agreement__title",
                "agreement__title_fr",
            ],
            value,
        )

    def filter_overdue(self, qs: CommitmentQuerySet, name: str, value: bool) -> QuerySet:
        """Keep the commitments overdue now (``true``) or those that are not (``false``)."""
        overdue = qs.overdue(timezone.now())
        return overdue if value else qs.exclude(pk__in=overdue.values("pk"))

    def filter_due_within(self, qs: CommitmentQuerySet, name: str, value: int) -> QuerySet:
        """Keep the open commitments due from now to ``value`` days ahead."""
        return qs.due_within(timezone.now(), value)


class AgreementFilterSet(FilterSet):
    """Filter agreements by kind, party, date and text."""

    kind = django_filters.MultipleChoiceFilter(choices=AgreementKind.choices)
    party = django_filters.ModelChoiceFilter(
        field_name="parties",
        queryset=_choosable(Party.objects.all, public_parties),
        help_text=_("Id of a party."),
    )
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_q",
        max_length=200,
        help_text=_("Search in title, key and summary, in English and in French."),
    )
    ordering = StableOrderingFilter(
        fields=(("date", "date"), ("title", "title"), ("updated", "updated"), ("id", "id"))
    )

    class Meta:
        model = Agreement
        fields = ["kind", "party", "date_before", "date_after", "q", "ordering"]

    def filter_q(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """Match the words in the title, key or summary."""
        return _search(qs, ["title", "title_fr", "key", "summary", "summary_fr"], value)


class PartyFilterSet(FilterSet):
    """Filter parties by kind and name."""

    kind = django_filters.MultipleChoiceFilter(choices=PartyKind.choices)
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_q",
        max_length=200,
        help_text=_("Search in name, French name and key."),
    )
    ordering = StableOrderingFilter(fields=(("name", "name"), ("key", "key"), ("id", "id")))

    class Meta:
        model = Party
        fields = ["kind", "q", "ordering"]

    def filter_q(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """Match the words in the name, French name or key."""
        return _search(qs, ["name", "name_fr", "key"], value)


class SourceFilterSet(FilterSet):
    """Filter sources by kind, language, publication date and text."""

    kind = django_filters.MultipleChoiceFilter(choices=SourceKind.choices)
    language = django_filters.CharFilter(max_length=8, help_text=_("BCP 47 code, e.g. fr."))
    published_before = django_filters.DateFilter(field_name="published_on", lookup_expr="lte")
    published_after = django_filters.DateFilter(field_name="published_on", lookup_expr="gte")
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_q",
        max_length=200,
        help_text=_("Search in title, publisher and key."),
    )
    ordering = StableOrderingFilter(
        fields=(("published_on", "published_on"), ("title", "title"), ("id", "id"))
    )

    class Meta:
        model = Source
        fields = ["kind", "language", "published_before", "published_after", "q", "ordering"]

    def filter_q(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """Match the words in the title, publisher or key."""
        return _search(qs, ["title", "publisher", "key"], value)


class ProgressUpdateFilterSet(FilterSet):
    """Filter progress updates by commitment, new status and date."""

    commitment = django_filters.ModelChoiceFilter(
        queryset=_choosable(Commitment.objects.all, public_commitments),
        help_text=_("Id of the commitment."),
    )
    status_to = django_filters.MultipleChoiceFilter(
        choices=Status.choices, help_text=_("The status the update moved to.")
    )
    occurred_before = django_filters.DateFilter(field_name="occurred_on", lookup_expr="lte")
    occurred_after = django_filters.DateFilter(field_name="occurred_on", lookup_expr="gte")
    ordering = StableOrderingFilter(
        fields=(("occurred_on", "occurred_on"), ("created", "created"), ("id", "id"))
    )

    class Meta:
        model = ProgressUpdate
        fields = ["commitment", "status_to", "occurred_before", "occurred_after", "ordering"]
