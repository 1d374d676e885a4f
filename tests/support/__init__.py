"""Test helpers.

aiosmtpd (the test SMTP server) imports ``public`` from the ``atpublic`` package, which the
tracker's own ``public`` app shadows on ``sys.path``; it is imported here once with
atpublic's module in place, and the app's put back.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys


def _import_aiosmtpd() -> None:
    site = [path for path in sys.path if path.endswith("site-packages")]
    spec = importlib.machinery.PathFinder.find_spec("public", site)
    if spec is None or spec.loader is None:
        return
    app = {name: module for name, module in sys.modules.items() if name.split(".")[0] == "public"}
    for name in app:
        del sys.modules[name]
    atpublic = importlib.util.module_from_spec(spec)
    sys.modules["public"] = atpublic
    try:
        spec.loader.exec_module(atpublic)
        importlib.import_module("aiosmtpd.controller")
        importlib.import_module("aiosmtpd.smtp")
    finally:
        for name in [name for name in sys.modules if name.split(".")[0] == "public"]:
            del sys.modules[name]
        sys.modules.update(app)


_import_aiosmtpd()
