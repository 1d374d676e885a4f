"""The public site. (Temporary: the package name shadows ``atpublic``'s ``public`` module, which
aiosmtpd imports as ``from public import public``; until this app is renamed, it hands over
atpublic's two decorators so that aiosmtpd finds them here.)"""

import importlib.util as _util
import sysconfig as _sysconfig
from pathlib import Path as _Path

_path = _Path(_sysconfig.get_paths()["purelib"]) / "public" / "__init__.py"
_spec = _util.spec_from_file_location("_atpublic", _path, submodule_search_locations=[str(_path.parent)])
if _spec is not None and _spec.loader is not None and _path.exists():
    import sys as _sys

    _module = _util.module_from_spec(_spec)
    _sys.modules["_atpublic"] = _module
    _spec.loader.exec_module(_module)
    public = _module.public
    private = _module.private
