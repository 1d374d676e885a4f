"""The admin: the data-entry tool of the tracker.

Agreements and commitments are saved only through ``commitments.services.commitments`` so due
dates are computed and dependents recomputed; statuses change only through the "Change status"
view and the bulk actions, which call ``commitment_change_status``. A ``ValidationError`` a
service raises while saving rolls the whole submission back and is shown on the form.

Each module registers its own models; importing them here is what registers them.
"""

from . import agreements, assessments, commitments, parties, progress, reports, sources

__all__ = [
    "agreements",
    "assessments",
    "commitments",
    "parties",
    "progress",
    "reports",
    "sources",
]
