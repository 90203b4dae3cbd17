"""Views of the attendance domain."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("attendance", __name__)
