"""Indexes the statistics read through; the tables themselves belong to other domains.

- attendance (session_id, youth_id): the period's sessions join their visits and count
  each young person without reading the table rows (an index-only scan on PostgreSQL).
- session (starts_at, activity_id, cancelled_at): a period's held sessions and their
  offers come from the index alone.
"""
from __future__ import annotations

from sqlalchemy import Index

from ..activities.models import Session
from ..attendance.models import Attendance

ix_attendance_session_youth = Index("ix_attendance_session_youth", Attendance.session_id, Attendance.youth_id)
ix_session_period = Index("ix_session_period", Session.starts_at, Session.activity_id, Session.cancelled_at)
