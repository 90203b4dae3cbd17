"""The JSON API under /api/v1.

Authentication: the logged-in session with an ``X-CSRFToken`` header, or a personal
API token (``Authorization: Bearer …``). Each domain adds a module to this package
with its endpoints and their ``OPENAPI_PATHS``; every module is imported here.
"""
from __future__ import annotations

import importlib
import pkgutil

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_module.name}")
