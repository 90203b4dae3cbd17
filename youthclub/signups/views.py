"""Views of the signups domain."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("signups", __name__)
