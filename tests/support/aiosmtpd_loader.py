"""aiosmtpd, imported beside the project's ``public`` app.

aiosmtpd does ``from public import public`` (the PyPI package ``public``); the project's app of
the same name comes first on ``sys.path`` and shadows it. Import aiosmtpd with the package in
``sys.modules`` for that moment, then give the name back to the app.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

_PROJECT = Path(__file__).resolve().parents[2]


def _load() -> None:
    app = sys.modules.pop("public", None)
    paths = [p for p in sys.path if Path(p or ".").resolve() != _PROJECT]
    spec = importlib.machinery.PathFinder.find_spec("public", paths)
    if spec is None or spec.loader is None:
        raise ImportError("The PyPI package 'public', which aiosmtpd needs, is not installed.")
    package = importlib.util.module_from_spec(spec)
    sys.modules["public"] = package
    try:
        spec.loader.exec_module(package)
        importlib.import_module("aiosmtpd.controller")
        importlib.import_module("aiosmtpd.smtp")
    finally:
        if app is not None:
            sys.modules["public"] = app
        else:
            del sys.modules["public"]


_load()

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402

__all__ = ["SMTP", "Controller", "Envelope", "Session"]
