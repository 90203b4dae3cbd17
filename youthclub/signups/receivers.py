"""What the signups domain does when the activities domain changes a session or cancels an activity.

Free places are not filled here: the activities services call ``promote_waitlist`` themselves.
"""
from __future__ import annotations

from ..signals import activity_cancelled, session_changed
from . import services


@session_changed.connect
def on_session_changed(session, change=None, **_):
    """Mail the young people with a place about a cancelled, moved or restored session."""
    services.notify_session_changed(session, change)


@activity_cancelled.connect
def on_activity_cancelled(activity, **_):
    """Tell everyone signed up or waiting that the offer is cancelled."""
    services.notify_activity_cancelled(activity)
