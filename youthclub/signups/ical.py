"""A personal iCalendar feed (RFC 5545) of the sessions a young person has a place in."""
from __future__ import annotations

from datetime import UTC, datetime


def _escape(text: str) -> str:
    return (text or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, current = [], b""
    for ch in line:
        encoded = ch.encode()
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def build_calendar(entries, *, name: str, host: str) -> str:
    """``entries``: (session, activity) pairs. Cancelled sessions stay in the feed, marked CANCELLED."""
    now = _stamp(datetime.now(UTC))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Hotspot Norrebro//youthclub//DA",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(name)}",
    ]
    for session, activity in entries:
        location = ", ".join(p for p in (activity.address, activity.room) if p)
        lines += [
            "BEGIN:VEVENT",
            f"UID:session-{session.id}@{host}",
            f"DTSTAMP:{now}",
            f"DTSTART:{_stamp(session.starts_at)}",
            f"DTEND:{_stamp(session.ends_at)}",
            f"SUMMARY:{_escape(activity.title)}",
        ]
        if location:
            lines.append(f"LOCATION:{_escape(location)}")
        if session.is_cancelled:
            lines.append("STATUS:CANCELLED")
            if session.cancel_reason:
                lines.append(f"DESCRIPTION:{_escape(session.cancel_reason)}")
        else:
            lines.append("STATUS:CONFIRMED")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
