"""WSGI entry point for gunicorn and ``runserver``."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

application = get_wsgi_application()

# What the start loaded (modules, settings, models, every view through the URLconf: some
# 150,000 objects) lives as long as the process. Frozen, it is no longer walked by the
# garbage collector's full collections, which the API's page-sized bursts of short-lived rows
# set off: the commitment list spent 4.5 ms a request collecting, 2.1 ms frozen (issue 16).
# gunicorn imports this module in each worker (or once before forking, with preload_app).
get_resolver().url_patterns  # noqa: B018 - import every view before freezing
gc.freeze()
