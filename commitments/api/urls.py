"""The domain's API v1 routes, registered on the API's router by ``api/urls.py``."""

from . import compliance, parse, views

#: ``(prefix, viewset, basename)`` of each resource, in the order the API's root lists them.
routes = [
    ("parties", views.PartyViewSet, "party"),
    ("sources", views.SourceViewSet, "source"),
    ("agreements", views.AgreementViewSet, "agreement"),
    ("commitments", views.CommitmentViewSet, "commitment"),
    ("progress-updates", views.ProgressUpdateViewSet, "progressupdate"),
    (r"agreements/(?P<agreement_pk>\d+)/compliance", compliance.ComplianceViewSet, "compliance"),
    (r"agreements/(?P<agreement_pk>\d+)/reports", compliance.ReportViewSet, "report"),
    ("parse", parse.ParseViewSet, "parse"),
]
