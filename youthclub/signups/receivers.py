"""What the signups domain does when the activities domain changes a session, an activity or its capacity."""
from __future__ import annotations

from ..signals import activity_cancelled, capacity_changed, session_changed
from . import services


@session_changed.connect
def on_session_changed(session, change=None, **_):
    """Mail the young people with a place about a cancelled, moved or restored session."""
    services.notify_session_changed(session, change)


@capacity_changed.connect
def on_capacity_changed(activity, old_capacity=None, new_capacity=None, **_):
    """A raised (or removed) limit gives free places to the waitlist."""
    if new_capacity is None or old_capacity is None or new_capacity > old_capacity:
        services.promote_waitlist(activity)


@activity_cancelled.connect
def on_activity_cancelled(activity, **_):
    """Tell everyone signed up or waiting that the offer is cancelled."""
    services.notify_activity_cancelled(activity)
