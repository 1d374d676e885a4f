from django.urls import path

from . import imports, sources, views, workbench

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("commitments/", views.commitment_list, name="commitments"),
    path("commitments/<int:pk>/", views.commitment_detail, name="commitment"),
    path("commitments/<int:pk>/revise/", views.commitment_revise, name="commitment_revise"),
    path(
        "commitments/<int:pk>/occurrences/<int:sequence>/",
        views.occurrence_detail,
        name="occurrence",
    ),
    # Ratings (issue 13).
    path("commitments/<int:pk>/rate/", views.commitment_rate, name="commitment_rate"),
    path(
        "commitments/<int:pk>/assessments/<int:assessment_id>/review/",
        views.assessment_review,
        name="assessment_review",
    ),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path(
        "agreements/<int:pk>/publication/",
        views.agreement_publication,
        name="agreement_publication",
    ),
    path("agreements/<int:pk>/reports/", views.report_freeze, name="report_freeze"),
    path("agreements/<int:pk>/reports/<int:report_id>/", views.report_detail, name="report"),
    path(
        "agreements/<int:pk>/reports/<int:report_id>/csv/",
        views.report_download,
        {"extension": "csv"},
        name="report_csv",
    ),
    path(
        "agreements/<int:pk>/reports/<int:report_id>/pdf/",
        views.report_download,
        {"extension": "pdf"},
        name="report_pdf",
    ),
    path("methodology/", views.methodology_page, name="methodology"),
    path("watch/", views.watch, name="watch"),
    path("watching/", views.watching, name="watching"),
    # The workbench (issue 14): commitments entered from a source's text.
    path("workbench/", workbench.workbench_start, name="workbench_start"),
    path("workbench/<int:source_id>/", workbench.workbench, name="workbench"),
    path("workbench/<int:source_id>/draft/", workbench.workbench_draft, name="workbench_draft"),
    path(
        "workbench/<int:source_id>/preview/", workbench.workbench_preview, name="workbench_preview"
    ),
    path("import/", imports.import_start, name="import"),
    path("import/runs/<int:pk>/", imports.import_run, name="import_run"),
    path(
        "import/template.<str:file_format>",
        imports.import_template_download,
        name="import_template",
    ),
    # Sources kept as evidence (issue 14).
    path("sources/", sources.source_list, name="sources"),
    path("sources/add/", sources.source_add, name="source_add"),
    path("sources/<int:pk>/", sources.source_detail, name="source"),
    path("sources/<int:pk>/original/", sources.source_original, name="source_original"),
]
