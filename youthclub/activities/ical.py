"""The one iCalendar (RFC 5545) writer: an offer's public feed and a young person's personal feed.

Both write the same event for the same session (UID, PRODID, location, status and SEQUENCE),
so a calendar that subscribes to both sees one event, and a move or cancellation replaces it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from flask_babel import gettext as _

from .models import Activity, ActivityStatus, Session

PRODID = "-//Hotspot Nørrebro//youthclub//DA"


def escape(text: str | None) -> str:
    return (text or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 sequence."""
    out: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode("utf-8"))
            current = b""
        current += encoded
    out.append(current.decode("utf-8"))
    return "\r\n ".join(out)


def utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def location(activity: Activity) -> str:
    """Room, address (the institution's when the offer has none) and institution, as people say it."""
    return ", ".join(p for p in (activity.room, activity.address or activity.institution.address,
                                 activity.institution.name) if p)


def webcal(url: str) -> str:
    """The ``webcal://`` form of a feed address, which phones open in their calendar app to subscribe."""
    return "webcal://" + url.split("://", 1)[1]


def event_lines(session: Session, activity: Activity, *, host: str, stamp: str, url: str | None) -> list[str]:
    cancelled = session.is_cancelled or activity.status == ActivityStatus.CANCELLED
    description = activity.description or ""
    if session.cancel_reason:
        description = f"{session.cancel_reason}\n\n{description}".strip()
    summary = activity.title if not cancelled else _("Aflyst: %(title)s", title=activity.title)
    lines = [
        "BEGIN:VEVENT",
        f"UID:session-{session.id}@{host}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{utc_stamp(session.starts_at)}",
        f"DTEND:{utc_stamp(session.ends_at)}",
        f"SUMMARY:{escape(summary)}",
        f"DESCRIPTION:{escape(description)}",
        f"LOCATION:{escape(location(activity))}",
    ]
    if url:
        lines.append(f"URL:{url}")
    lines += [
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        # bumped by each move or cancellation, so calendars replace their copy
        f"SEQUENCE:{int(session.moved_from is not None) + int(cancelled)}",
        "END:VEVENT",
    ]
    return lines


def calendar(entries: Iterable[tuple[Session, Activity]], *, name: str, host: str,
             url_of: Callable[[Activity], str] | None = None) -> str:
    """A feed of ``entries`` ((session, activity) pairs; cancelled ones stay, marked CANCELLED)."""
    stamp = utc_stamp(datetime.now(UTC))
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}", "X-WR-TIMEZONE:Europe/Copenhagen",
        "REFRESH-INTERVAL;VALUE=DURATION:PT6H", "X-PUBLISHED-TTL:PT6H",
    ]
    for session, activity in entries:
        lines += event_lines(session, activity, host=host, stamp=stamp, url=url_of(activity) if url_of else None)
    lines.append("END:VCALENDAR")
    return "\r\n".join(fold(line) for line in lines) + "\r\n"
