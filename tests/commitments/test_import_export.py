"""CSV import (preview, confirm, row errors) and export of commitments in the admin."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from commitments.models import Commitment
from commitments.services import commitments as svc
from commitments.services.imports import COMPUTED_COLUMNS

pytestmark = pytest.mark.django_db

IMPORT_URL = "admin:commitments_commitment_import"
HEADER = (
    "key,agreement,title,obligor,beneficiaries,category,target_amount,target_unit,"
    "effective_from,deadline_phrase,deadline_kind,deadline_date,offset_amount,offset_unit,"
    "anchor_kind,anchor_commitment,period_unit,period_number,period_year\n"
)
GOOD_ROWS = (
    "minerals-ministerial,summit-2025-10-28,Ministerial meeting on critical minerals,japan,"
    "united-states,meeting,,,,dans un délai de 180 jours,relative,,180,days,agreement,,,,\n"
    "project-financing,summit-2025-10-28,Financing of selected projects,japan,"
    "united-states;japan,financing,550000000000,USD,,dans les six mois,relative,,6,months,"
    "agreement,,,,\n"
    "defence-two-percent,summit-2025-10-28,Defence spending at 2 % of GDP,japan,,"
    "defence_spending,2,percent_gdp,,d'ici mars,period_end,,,,,,month,3,\n"
)


def upload(client, content: str):
    """Send ``content`` to the import form as a CSV file (the dry-run preview)."""
    csv_file = SimpleUploadedFile("commitments.csv", content.encode(), content_type="text/csv")
    return client.post(reverse(IMPORT_URL), {"import_file": csv_file, "format": "0"})


def test_preview_shows_rows_with_computed_due_dates_and_writes_nothing(
    editor_client, agreement, japan, usa
):
    response = upload(editor_client, HEADER + GOOD_ROWS)
    assert response.status_code == 200
    result = response.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert [row.import_type for row in result.rows] == ["new", "new", "new"]
    assert response.context["confirm_form"] is not None
    text = response.content.decode()
    assert "Ministerial meeting on critical minerals" in text
    assert "2026-04-26" in text  # due date computed by the service during the preview
    assert "2026-03-31" in text
    assert not Commitment.objects.exists()
    assert not Commitment.history.exists()


def test_confirm_imports_rows_through_the_service(editor_client, agreement, japan, usa, editor):
    preview = upload(editor_client, HEADER + GOOD_ROWS)
    confirm = preview.context["confirm_form"]
    data = {name: confirm[name].value() for name in confirm.fields}
    response = editor_client.post(reverse("admin:commitments_commitment_process_import"), data)
    assert response.status_code == 302
    ministerial = Commitment.objects.get(key="minerals-ministerial")
    assert ministerial.due_date == dt.date(2026, 4, 26)
    assert ministerial.due_at == dt.datetime(2026, 4, 26, 14, 59, 59, 999999, tzinfo=dt.UTC)
    assert ministerial.history.latest().history_user == editor
    financing = Commitment.objects.get(key="project-financing")
    assert financing.due_date == dt.date(2026, 4, 28)
    assert financing.target_amount == 550_000_000_000
    assert set(financing.beneficiaries.values_list("key", flat=True)) == {"japan", "united-states"}
    defence = Commitment.objects.get(key="defence-two-percent")
    assert defence.due_date == dt.date(2026, 3, 31)
    assert list(defence.beneficiaries.all()) == []


def test_import_updates_an_existing_commitment_and_recomputes(
    editor_client, agreement, make_commitment, japan, usa
):
    existing = make_commitment(key="minerals-ministerial")
    assert existing.due_date == dt.date(2026, 4, 26)
    preview = upload(editor_client, HEADER + GOOD_ROWS.replace(",180,days,", ",90,days,"))
    assert [row.import_type for row in preview.context["result"].rows] == ["update", "new", "new"]
    existing.refresh_from_db()
    assert existing.offset_amount == 180
    confirm = preview.context["confirm_form"]
    editor_client.post(
        reverse("admin:commitments_commitment_process_import"),
        {name: confirm[name].value() for name in confirm.fields},
    )
    existing.refresh_from_db()
    assert existing.offset_amount == 90
    assert existing.due_date == dt.date(2026, 1, 26)
    assert existing.title == "Ministerial meeting on critical minerals"


BAD_ROWS = [
    ("agreement", "no-such-summit", "No agreement has the key 'no-such-summit'."),
    ("target_amount", "-5", "greater than or equal to 0"),
    ("target_amount", "lots", "'lots' is not a number"),
    ("target_unit", "furlongs", "'furlongs' is not a valid choice."),
    ("obligor", "atlantis", "No party has the key 'atlantis'."),
    ("beneficiaries", "japan;atlantis", "No party has the key 'atlantis'."),
    ("category", "charity", "'charity' is not a valid choice."),
    ("deadline_date", "2025-01-01", "before the agreement's date 2025-10-28"),
    ("offset_amount", "", "A relative deadline needs a number of units."),
    ("period_year", "20288", "The year must be between 1900 and 2199."),
    ("period_year", "2200", "The year must be between 1900 and 2199."),
    ("effective_from", "0001-01-01", "Dates run from 1900-01-01 to 2199-12-31."),
    ("deadline_date", "9999-12-31", "must fall between 1900-01-01 and 2199-12-31"),
    ("title", "nul\x00byte", "Null characters are not allowed."),
    ("agreement", "summit\x00", "Null characters are not allowed."),
]


def _row(**values: str) -> str:
    base = {
        "key": "row",
        "agreement": "summit-2025-10-28",
        "title": "A commitment",
        "obligor": "japan",
        "beneficiaries": "united-states",
        "category": "meeting",
        "target_amount": "",
        "target_unit": "",
        "effective_from": "",
        "deadline_phrase": "",
        "deadline_kind": "relative",
        "deadline_date": "",
        "offset_amount": "180",
        "offset_unit": "days",
        "anchor_kind": "agreement",
        "anchor_commitment": "",
        "period_unit": "",
        "period_number": "",
        "period_year": "",
    }
    if "target_amount" in values:
        base["target_unit"] = "USD"
    if "target_unit" in values:
        base["target_amount"] = "5"
    if "deadline_date" in values:
        base.update(deadline_kind="fixed", offset_amount="", offset_unit="", anchor_kind="")
    if "period_year" in values:
        base.update(
            deadline_kind="period_end",
            offset_amount="",
            offset_unit="",
            anchor_kind="",
            period_unit="year",
        )
    base.update(values)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(base.values())
    return out.getvalue()


def test_bad_rows_show_row_level_errors_naming_the_field_and_import_nothing(
    editor_client, agreement, japan, usa
):
    content = HEADER + _row(key="fine-row")
    for number, (field, value, _message) in enumerate(BAD_ROWS):
        content += _row(key=f"bad-{number}", **{field: value})
    response = upload(editor_client, content)
    assert response.status_code == 200
    result = response.context["result"]
    assert response.context.get("confirm_form") is None
    invalid = {row.number: row.field_specific_errors for row in result.invalid_rows}
    # Numbered by the file's lines: the header is line 1, the fine row line 2.
    assert sorted(invalid) == list(range(3, 3 + len(BAD_ROWS)))
    for number, (field, _value, message) in enumerate(BAD_ROWS, start=3):
        assert field in invalid[number], (field, invalid[number])
        assert any(message in text for text in invalid[number][field]), invalid[number]
    page = response.content.decode()
    assert "Some rows failed to validate" in page
    assert "No agreement has the key" in page
    assert not Commitment.objects.exists()


def test_confirm_imports_nothing_if_a_row_went_bad_since_the_preview(
    editor_client, agreement, japan, usa
):
    """A row made invalid between preview and confirm rolls back every row and is reported."""
    content = HEADER + _row(key="fine-row") + _row(key="fixed-row", deadline_date="2025-12-01")
    preview = upload(editor_client, content)
    confirm = preview.context["confirm_form"]
    svc.agreement_update(agreement=agreement, date=dt.date(2026, 1, 1))
    response = editor_client.post(
        reverse("admin:commitments_commitment_process_import"),
        {name: confirm[name].value() for name in confirm.fields},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert any(
        t.startswith("Line 3, column deadline_date: ")
        and "before the agreement's date 2026-01-01" in t
        for t in texts
    ), texts
    assert "Nothing was imported; correct the file and import it again." in texts
    assert not Commitment.objects.exists()


def test_viewer_cannot_import(client, viewer):
    client.force_login(viewer)
    assert client.get(reverse(IMPORT_URL)).status_code == 403


def test_export_returns_csv_with_computed_columns(editor_client, make_commitment, usa):
    commitment = make_commitment(key="minerals-ministerial", beneficiaries=[usa])
    make_commitment(
        key="ongoing", deadline_kind="none", offset_amount=None, offset_unit="", anchor_kind=""
    )
    response = editor_client.post(
        reverse("admin:commitments_commitment_export"),
        {
            "format": "0",
            **{
                f"commitmentresource_{name}": "on"
                for name in (
                    "key",
                    "agreement",
                    "obligor",
                    "beneficiaries",
                    "deadline_kind",
                    "offset_amount",
                    "offset_unit",
                    "due_date",
                    "due_at",
                    "status",
                    "deadline_state",
                )
            },
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_key = {row["key"]: row for row in rows}
    row = by_key[commitment.key]
    assert row["agreement"] == "summit-2025-10-28"
    assert row["obligor"] == "japan"
    assert row["beneficiaries"] == "united-states"
    assert row["due_date"] == "2026-04-26"
    assert row["due_at"] == "2026-04-26T14:59:59+00:00"
    assert row["status"] == "not_started"
    commitment.refresh_from_db()
    assert row["deadline_state"] == commitment.deadline_state
    assert by_key["ongoing"]["due_date"] == ""
    assert by_key["ongoing"]["due_at"] == ""


def test_exported_file_imports_back_unchanged_once_computed_columns_are_deleted(
    editor_client, make_commitment, usa
):
    """An export can be edited and imported again; its computed columns are refused by name,
    not silently ignored (an analyst who typed a new due date must learn it was not read)."""
    make_commitment(key="minerals-ministerial", beneficiaries=[usa])
    exported = editor_client.post(
        reverse("admin:commitments_commitment_export"),
        {
            "format": "0",
            **{
                f"commitmentresource_{name}": "on"
                for name in (
                    "key",
                    "agreement",
                    "title",
                    "obligor",
                    "beneficiaries",
                    "category",
                    "deadline_kind",
                    "offset_amount",
                    "offset_unit",
                    "anchor_kind",
                    "due_date",
                    "due_at",
                    "status",
                    "deadline_state",
                )
            },
        },
    ).content.decode("utf-8-sig")
    response = upload(editor_client, exported)
    assert response.context.get("confirm_form") is None
    page = response.content.decode()
    assert "Line 1, column due_date, due_at, status, deadline_state: " in page
    assert "computed by the tracker" in page
    assert "Traceback" not in page

    rows = list(csv.reader(io.StringIO(exported)))
    kept = [i for i, name in enumerate(rows[0]) if name not in COMPUTED_COLUMNS]
    out = io.StringIO()
    csv.writer(out).writerows([[r[i] for i in kept] for r in rows])
    response = upload(editor_client, out.getvalue())
    result = response.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert [row.import_type for row in result.rows] == ["update"]


@pytest.mark.parametrize(
    "title",
    ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1:A2)", "\tTabbed"],
)
def test_admin_export_defuses_formulas_as_the_api_export_does(
    editor_client, make_commitment, title
):
    """The admin's CSV quoted nothing while the API's put a ``'`` first: one rule for both."""
    make_commitment(key="evil", title=title)

    admin = editor_client.post(
        reverse("admin:commitments_commitment_export"),
        {"format": "0", "commitmentresource_key": "on", "commitmentresource_title": "on"},
    )
    api = editor_client.get("/api/v1/commitments/export.csv")

    [admin_row] = csv.DictReader(io.StringIO(admin.content.decode("utf-8-sig")))
    [api_row] = csv.DictReader(io.StringIO(b"".join(api.streaming_content).decode("utf-8-sig")))
    assert admin_row["title"] == "'" + title
    assert api_row["title"] == admin_row["title"]


def _with_co_obligors(*rows: tuple[str, str]) -> str:
    """Return a file whose last column is ``co_obligors``: (key, co_obligors) per row."""
    return HEADER.rstrip("\n") + ",co_obligors\n" + "".join(
        _row(key=key).rstrip("\n") + f",{co_obligors}\n" for key, co_obligors in rows
    )


def test_co_obligors_column_binds_the_other_parties_and_exports_back(
    editor_client, agreement, japan, usa
):
    content = _with_co_obligors(("shared", "united-states"), ("alone", ""))
    preview = upload(editor_client, content)
    confirm = preview.context["confirm_form"]
    editor_client.post(
        reverse("admin:commitments_commitment_process_import"),
        {name: confirm[name].value() for name in confirm.fields},
    )
    shared = Commitment.objects.get(key="shared")
    assert [p.key for p in shared.obligor_list] == ["japan", "united-states"]
    assert not Commitment.objects.get(key="alone").co_obligors.exists()

    exported = editor_client.post(
        reverse("admin:commitments_commitment_export"),
        {"format": "0", **{f"commitmentresource_{n}": "on" for n in ("key", "co_obligors")}},
    ).content.decode("utf-8-sig")
    rows = {row["key"]: row for row in csv.DictReader(io.StringIO(exported))}
    assert rows["shared"]["co_obligors"] == "united-states"
    assert rows["alone"]["co_obligors"] == ""


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("united-states;atlantis", "No party has the key 'atlantis'."),
        ("japan", "The obligor is already bound: list only the other parties."),
    ],
)
def test_a_bad_co_obligors_cell_is_a_row_error_naming_the_column(
    editor_client, agreement, japan, usa, value, message
):
    response = upload(editor_client, _with_co_obligors(("fine", ""), ("bad", value)))
    result = response.context["result"]
    assert response.context.get("confirm_form") is None
    invalid = {row.number: row.field_specific_errors for row in result.invalid_rows}
    assert list(invalid) == [3]
    assert any(message in text for text in invalid[3]["co_obligors"]), invalid
    assert not Commitment.objects.exists()


def test_export_is_excel_friendly_and_carries_page_and_source_urls(
    editor_client, make_commitment, source
):
    """UTF-8 with a BOM (Excel reads it as UTF-8), the dashboard page and the sources' URLs."""
    from commitments.models import Citation

    commitment = make_commitment(key="cited", title="Réunion « ministérielle »")
    Citation.objects.create(commitment=commitment, source=source, quote="dans un délai")
    response = editor_client.post(
        reverse("admin:commitments_commitment_export"),
        {"format": "0", **{f"commitmentresource_{n}": "on"
                           for n in ("key", "title", "page_url", "source_urls")}},
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    [row] = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    assert row["title"] == "Réunion « ministérielle »"
    assert row["page_url"].endswith(f"/commitments/{commitment.pk}/")
    assert row["page_url"].startswith("http")
    assert row["source_urls"] == source.url


def test_an_unreadable_amount_says_only_why_not_also_that_a_unit_needs_one(
    admin_client, agreement, japan
):
    """The cell's own error is the one to fix; the model's rule about the empty value it left
    would send the analyst after a second, wrong problem."""
    from commitments.services.imports import commitments_import, table_read
    from tests.commitments.test_import_engine import as_csv, row

    data = as_csv([row("a", target_amount="lots", target_unit="USD")]).encode()
    report = commitments_import(dataset=table_read(data=data), user=None)
    messages = [error.message for error in report.errors if error.column == "target_amount"]
    assert len(messages) == 1 and "'lots' is not a number" in messages[0]
    assert not Commitment.objects.exists()


def test_the_french_columns_are_imported_and_exported_back(editor_client, agreement, japan):
    """``title_fr`` and ``description_fr`` are columns like the others, read by their names."""
    content = (
        "key,agreement,title,title_fr,description_fr,obligor,category,deadline_kind\n"
        "minerals-ministerial,summit-2025-10-28,Ministerial meeting,Réunion ministérielle,"
        "Dans les 180 jours.,japan,meeting,none\n"
    )
    preview = upload(editor_client, content)
    assert not preview.context["result"].has_validation_errors()
    confirm = preview.context["confirm_form"]
    data = {name: confirm[name].value() for name in confirm.fields}
    response = editor_client.post(reverse("admin:commitments_commitment_process_import"), data)
    assert response.status_code == 302
    stored = Commitment.objects.get(key="minerals-ministerial")
    assert (stored.title, stored.title_fr, stored.description_fr) == (
        "Ministerial meeting",
        "Réunion ministérielle",
        "Dans les 180 jours.",
    )

    exported = editor_client.post(
        reverse("admin:commitments_commitment_export"),
        {
            "format": "0",
            **{f"commitmentresource_{n}": "on" for n in ("key", "title", "title_fr")},
        },
    ).content.decode("utf-8-sig")
    [row] = csv.DictReader(io.StringIO(exported))
    assert row == {
        "key": "minerals-ministerial",
        "title": "Ministerial meeting",
        "title_fr": "Réunion ministérielle",
    }
