"""Forms of the attendance domain."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField


class ClaimCodeCardForm(FlaskForm):
    """Print the pass card with the claim code that was just shown (checked against the open codes)."""

    code = HiddenField()
