"""Recording audit events."""
from __future__ import annotations

from flask_login import current_user

from ..database import take_write_lock
from ..extensions import db
from .models import AuditEvent

#: details staff type in their own words: they can name a young person (or a third person), so only
#: admins read them, and they go when the young person closes their account or is anonymised
FREE_TEXT_DETAILS = frozenset({"reason", "title"})


def record_event(action: str, obj=None, *, user=None, **details) -> AuditEvent:
    """Add an audit event for ``action`` on ``obj`` by ``user`` (the current user by default)."""
    if user is None:
        try:
            user = current_user if current_user.is_authenticated else None
        except Exception:  # outside a request (CLI)
            user = None
    take_write_lock()  # a page that only read so far (a GET) writes from here on
    event = AuditEvent(
        user_id=getattr(user, "id", None),
        action=action,
        object_type=getattr(obj, "__tablename__", None),
        object_id=getattr(obj, "id", None),
        details=details,
    )
    db.session.add(event)
    return event


def audited_page(action: str, obj, html: str, **details) -> str:
    """Record that the current user looked at personal data (e.g. a roster), then hand back the page.

    Committed after rendering, so the page's own objects stay loaded while it renders.
    """
    record_event(action, obj, **details)
    db.session.commit()
    return html
