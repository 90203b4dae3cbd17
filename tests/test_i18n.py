"""Every text in the interface has an English translation; dates and times are Danish-style in Copenhagen time."""
from __future__ import annotations

from datetime import UTC, datetime

from youthclub.catalogues import missing


def test_every_text_has_an_english_translation():
    gaps = missing()
    assert not gaps, "texts without English (run `make messages` and fill them in): " + repr(gaps)


def test_dates_and_times_are_shown_in_copenhagen(app):
    from youthclub.i18n import fmt_date, fmt_datetime, fmt_time

    with app.test_request_context():
        summer = datetime(2026, 7, 1, 14, 30, tzinfo=UTC)  # CEST, UTC+2
        winter = datetime(2026, 1, 15, 14, 30, tzinfo=UTC)  # CET, UTC+1
        assert fmt_date(summer) == "01.07.2026"
        assert fmt_time(summer) == "16:30"
        assert fmt_datetime(winter) == "15.01.2026 15:30"


def test_weekdays_are_danish_by_default(app):
    from datetime import date

    from youthclub.i18n import fmt_weekday

    with app.test_request_context():
        assert fmt_weekday(date(2026, 11, 30)) == "mandag"
