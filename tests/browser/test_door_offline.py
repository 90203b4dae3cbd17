"""The door in a basement: the scanner opens, decides and shows names with no signal.

Decoded passes are fed through the scanner's own path (the ``decoded`` event calls the same
``onDecode`` as the camera; the camera journeys are in test_scanner.py). Chromium goes
offline with ``context.set_offline(True)``; the page is reloaded and served by the
scanner's service worker.
"""
from __future__ import annotations

import secrets
import statistics
import uuid
from datetime import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser.conftest import login, phone_context
from tests.factories import attend, make_activity, make_session, make_session_now, make_youth, sign_up
from youthclub.activities.models import Session
from youthclub.api import checkins as checkins_api
from youthclub.attendance import services
from youthclub.attendance.models import Attendance, ScanConflict
from youthclub.extensions import db
from youthclub.i18n import local_now, local_today
from youthclub.models import Signup, SignupStatus

READY = "() => document.getElementById('scanner').dataset.ready === 'yes'"
CONTROLLED = "() => !!navigator.serviceWorker.controller"
PAGE_KEPT = """async () => {
  const cache = await caches.open('youthclub-scanner-pages');
  return !!(await cache.match(location.origin + location.pathname));
}"""


@pytest.fixture
def page(browser, live_server):
    context = phone_context(browser, live_server.url)
    page = context.new_page()
    yield page
    context.close()


def _youth(name, activity=None, status=SignupStatus.CONFIRMED, **kw):
    youth = make_youth(first_name=name, **kw)
    if activity is not None:
        sign_up(youth, activity, status=status, position=1 if status == SignupStatus.WAITLISTED else None)
    return youth


def _wait_js(page, script, timeout_ms=20000):
    """Poll an async predicate until it holds (wait_for_function would take its promise for true)."""
    waited = 0
    while not page.evaluate(script):
        assert waited < timeout_ms, f"timed out: {script}"
        page.wait_for_timeout(100)
        waited += 100


def _open_scanner(page, session_id):
    """Staff open the scanner online once: the roster is fetched and the page kept for offline."""
    login(page, "staff.a@example.org")
    page.goto(f"/scan/{session_id}")
    page.wait_for_function(READY, timeout=20000)
    page.wait_for_function(CONTROLLED, timeout=20000)
    _wait_js(page, PAGE_KEPT)


def _go_offline_and_reload(page):
    page.context.set_offline(True)
    page.reload()
    page.wait_for_function(READY, timeout=20000)
    expect(page.locator("#scan-network")).to_have_text("Ingen forbindelse", use_inner_text=True)


def _scan(page, token, *, override=False):
    """Feed one decoded pass; return the scanner's log entry for what it showed."""
    n = page.evaluate("window.scannerLog.length")
    page.evaluate("(t) => document.getElementById('scanner').dispatchEvent(new CustomEvent('decoded', {detail: t}))", token)
    page.wait_for_function(f"() => window.scannerLog.length > {n}", timeout=10000)
    if override:
        page.locator("#scan-override").click()
        page.wait_for_function(f"() => window.scannerLog.length > {n + 1}", timeout=10000)
    return page.evaluate("window.scannerLog[window.scannerLog.length - 1]")


def _queued(page) -> int:
    return page.evaluate("""async () => (await import('/static/js/offline-queue.js')).count()""")


def _fresh():
    db.session.remove()


def test_twenty_passes_offline_after_a_reload_then_exactly_the_right_records(page, world):
    session = world.session_a  # happening now; the activity takes drop-ins
    activity = world.activity_a
    signed = [_youth(f"Tilmeldt{i}", activity) for i in range(8)]
    inside = [_youth(f"Inde{i}", activity) for i in range(2)]
    for youth in inside:
        attend(youth, session)
    waiting = [_youth(f"Venter{i}", activity, SignupStatus.WAITLISTED) for i in range(2)]
    too_old = [_youth(f"Voksen{i}", activity, birth_year=local_today().year - 30) for i in range(2)]
    lost = [_youth(f"Mistet{i}", activity) for i in range(2)]
    revoked_tokens = []
    for youth in lost:
        revoked_tokens.append(youth.pass_token)
        services.revoke_pass(youth, world.staff_a)
    drop_in = make_youth(first_name="Dropin")
    drop_in.registered_by_institution_id = world.inst_a.id
    stale = _youth("Skiftet", activity)
    db.session.commit()
    ids = {y.first_name: y.id for y in [*signed, *inside, *waiting, *too_old, *lost, drop_in, stale]}
    tokens = {y.first_name: y.pass_token for y in [*signed, *inside, *waiting, *too_old, drop_in, stale]}
    stale_id, session_id = stale.id, session.id

    _open_scanner(page, session_id)
    # after the roster came down, the office moves one young person to the waitlist
    _fresh()
    db.session.get(Signup, db.session.scalar(select(Signup.id).where(Signup.youth_id == stale_id))).status = \
        SignupStatus.WAITLISTED
    db.session.commit()
    _go_offline_and_reload(page)

    shown = []
    for youth in signed:
        shown.append((_scan(page, tokens[youth.first_name]), youth.first_name, "checked_in"))
    for youth in inside:
        shown.append((_scan(page, tokens[youth.first_name]), youth.first_name, "already_checked_in"))
    for youth in waiting:
        shown.append((_scan(page, tokens[youth.first_name]), youth.first_name, "waitlisted"))
    shown.append((_scan(page, tokens["Voksen0"]), "Voksen0", "outside_age"))
    shown.append((_scan(page, tokens["Voksen1"], override=True), "Voksen1", "checked_in"))
    for token in revoked_tokens:
        shown.append((_scan(page, token), "", "revoked_token"))
    unknown = [secrets.token_urlsafe(20) for _ in range(2)]
    for token in unknown:
        shown.append((_scan(page, token), "", "unknown_token"))
    shown.append((_scan(page, tokens["Dropin"]), "Dropin", "checked_in"))
    shown.append((_scan(page, tokens["Skiftet"]), "Skiftet", "checked_in"))  # the roster's view
    assert len(shown) == 20
    for entry, name, code in shown:
        assert (entry["name"], entry["code"], entry["offline"]) == (name, code, True), entry
    assert page.evaluate("window.scannerLog.find(e => e.name === 'Dropin').text").endswith("drop-in")
    expect(page.locator("#scan-queue")).to_have_text("I kø: 13", use_inner_text=True)
    _fresh()
    assert db.session.scalar(select(func.count(Attendance.id))) == 2  # nothing reached the server

    page.context.set_offline(False)
    page.wait_for_function("() => document.getElementById('scan-queue').hidden", timeout=20000)
    _fresh()
    rows = db.session.scalars(select(Attendance).where(Attendance.session_id == session_id)).all()
    expected = {ids[n] for n in [*[y.first_name for y in signed], "Inde0", "Inde1", "Voksen1", "Dropin"]}
    assert sorted(a.youth_id for a in rows) == sorted(expected)  # each once
    assert {a.youth_id for a in rows if a.age_override} == {ids["Voksen1"]}
    assert {a.youth_id for a in rows if a.drop_in} == {ids["Dropin"]}
    conflicts = db.session.scalars(select(ScanConflict)).all()
    assert sorted(c.code for c in conflicts) == ["unknown_token", "unknown_token", "waitlisted"]
    assert [c.youth_id for c in conflicts if c.code == "waitlisted"] == [stale_id]
    # and the staff member sees the differences on the scanner
    differences = page.locator("#scan-differences li")
    assert differences.count() == 3
    assert "Skiftet" in page.locator("#scan-differences li[data-server=waitlisted]").inner_text()

    latencies = page.evaluate("window.scannerLog.filter(e => e.offline && e.decodedAt).map(e => e.at - e.decodedAt)")
    _write_decision_benchmark(latencies)


def _write_decision_benchmark(latencies) -> None:
    from bench.report import write_section

    write_section("scanner-offline-decision", f"""## Scanner offline: decode to name (`tests/browser/test_door_offline.py`)

Headless Chromium, 360×740 phone viewport, network cut (`context.set_offline(True)`) and the page
reloaded from the scanner's service worker. Twenty decoded passes with mixed outcomes go through the
scanner's own path (`onDecode`): hash with the roster's salt, the rule in `door-rules.js`, the
IndexedDB write for accepted scans, the result on screen. The camera-to-name figures, decoding
included, are in the scanner sections.

| measure | value |
| --- | --- |
| scans | {len(latencies)} |
| median decode-to-name | {statistics.median(latencies):.1f} ms |
| slowest | {max(latencies):.1f} ms |""")


def test_a_sync_cut_off_halfway_and_a_queue_longer_than_a_batch_lose_and_double_nothing(page, world, monkeypatch):
    monkeypatch.setattr(services, "MAX_BATCH", 5)
    monkeypatch.setattr(checkins_api, "MAX_BATCH", 5)
    youths = [_youth(f"Kø{i}", world.activity_a) for i in range(12)]
    db.session.commit()
    tokens, session_id = [y.pass_token for y in youths], world.session_a.id
    _open_scanner(page, session_id)
    assert page.locator("#scanner").get_attribute("data-batch-max") == "5"
    _go_offline_and_reload(page)
    for token in tokens:
        assert _scan(page, token)["code"] == "checked_in"
    assert _queued(page) == 12

    sent, calls = [], []

    def cut_second(route):
        calls.append(1)
        body = route.request.post_data_json
        if len(calls) == 2:
            route.fetch()  # the server stores the batch, the answer never arrives
            route.abort("connectionreset")
        else:
            route.continue_()
        sent.append(body)  # noted once handled: the server has answered (or been cut off) by now

    page.route("**/api/v1/checkins/batch", cut_second)
    page.context.set_offline(False)
    page.wait_for_function("() => !document.getElementById('scan-network').className.includes('danger')",
                           timeout=20000)
    waited = 0
    while len(sent) < 2:
        assert waited < 20000
        page.wait_for_timeout(100)
        waited += 100
    page.wait_for_timeout(300)
    assert [len(body["items"]) for body in sent] == [5, 5] and len(calls) == 2
    assert _queued(page) == 7  # the first batch answered; the cut one is still queued
    _fresh()
    assert db.session.scalar(select(func.count(Attendance.id)).where(Attendance.session_id == session_id)) == 10

    page.unroute("**/api/v1/checkins/batch")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => document.getElementById('scan-queue').hidden", timeout=20000)
    _fresh()
    rows = db.session.scalars(select(Attendance).where(Attendance.session_id == session_id)).all()
    assert sorted(a.youth_id for a in rows) == sorted(y.id for y in youths)
    assert page.locator("#scan-differences li").count() == 0
    expect(page.locator("#scan-count")).to_have_text("12", use_inner_text=True)


def test_a_failed_storage_write_says_not_saved(page, world):
    _open_scanner(page, world.session_a.id)
    _go_offline_and_reload(page)
    page.evaluate("""() => { IDBObjectStore.prototype.put = function () {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); }; }""")
    entry = _scan(page, world.youth.pass_token)
    assert entry["code"] == "not_saved"
    expect(page.locator("#scan-storage-error")).to_be_visible()
    assert "IKKE gemt" in page.locator("#scan-storage-error").inner_text()
    assert "IKKE gemt" in page.locator("#scan-result-text").inner_text()


def test_log_out_empties_the_roster_and_the_kept_pages(page, world):
    _open_scanner(page, world.session_a.id)
    roster = "async () => !!(await (await import('/static/js/offline-queue.js')).getRoster())"
    assert page.evaluate(roster)
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Log ud").click()
    page.wait_for_load_state()
    _wait_js(page, """async () => !(await caches.keys()).some(k => k.startsWith('youthclub-scanner'))""")
    assert not page.evaluate(roster)
    _wait_js(page, "async () => (await navigator.serviceWorker.getRegistrations()).length === 0")


def test_the_result_offers_the_override_only_where_it_applies_and_the_queue_only_when_full(page, world):
    teen = make_activity(world.inst_a, min_age=13, max_age=15)
    session = make_session_now(teen)
    young = _youth("Liv", teen, birth_year=local_today().year - 11)
    db.session.commit()
    login(page, "staff.a@example.org")
    page.goto(f"/scan/{session.id}")
    page.wait_for_function(READY, timeout=20000)
    expect(page.locator("#scan-queue")).to_be_hidden()
    assert _scan(page, "ukendt-pas-123")["code"] == "unknown_token"
    expect(page.locator("#scan-override")).to_be_hidden()
    assert _scan(page, young.pass_token)["code"] == "outside_age"
    expect(page.locator("#scan-override")).to_be_visible()


# -- the device's rule and the server's rule on the same cases ----------------------------


def test_the_device_decides_as_the_server_does(page, world, app):
    now = local_now()
    open_club, strict = world.activity_a, make_activity(world.inst_a, allows_drop_in=False, min_age=10, max_age=15)
    here = world.session_a
    strict_now = make_session_now(strict)
    cancelled = make_session_now(open_club)
    cancelled.cancelled_at = cancelled.starts_at
    sessions = [here, strict_now, cancelled]
    if 1 <= now.hour <= 20:  # today, but its window opens in more than an hour
        sessions.append(make_session(open_club, day=now.date(), start=time(now.hour + 3), end=time(23, 59)))
    people = {
        "signed": _youth("A", open_club),
        "waiting": _youth("B", open_club, SignupStatus.WAITLISTED),
        "too_old": _youth("C", open_club, birth_year=local_today().year - 30),
        "inside": _youth("D", open_club),
        "lost": _youth("E", open_club),
        "known": make_youth(first_name="F"),
        "strict_signed": _youth("G", strict),
        "strict_young": _youth("H", strict, birth_year=local_today().year - 17),
    }
    people["known"].registered_by_institution_id = world.inst_a.id
    for session in sessions:
        attend(people["inside"], session)
    tokens = {k: y.pass_token for k, y in people.items()}
    tokens["lost"] = people["lost"].pass_token
    services.revoke_pass(people["lost"], world.staff_a)
    tokens["unknown"] = secrets.token_urlsafe(20)
    db.session.commit()
    cases = [(s.id, name) for s in sessions for name in tokens]
    session_ids = [s.id for s in sessions]

    login(page, "staff.a@example.org")
    page.goto(f"/scan/{world.session_a.id}")
    page.wait_for_function(READY, timeout=20000)
    device = page.evaluate("""async ([cases, tokens]) => {
      const rules = await import('/static/js/door-rules.js');
      const roster = await (await fetch('/api/v1/door/roster')).json();
      const out = [];
      for (const [sid, name] of cases) {
        for (const override of [false, true]) {
          const hash = await rules.passHash(roster.salt, tokens[name]);
          out.push(rules.decide(roster, sid, hash, new Date(), { override }).code);
        }
      }
      return out;
    }""", [cases, tokens])

    server = []
    _fresh()
    with app.test_request_context():
        for sid, name in cases:
            for override in (False, True):
                session = db.session.get(Session, sid)
                savepoint = db.session.begin_nested()
                try:
                    result = services.check_in(session, tokens[name], nonce=str(uuid.uuid4()),
                                               override_age=override)
                    server.append("checked_in" if result.created else "already_checked_in")
                except services.CheckinError as err:
                    server.append(err.code)
                finally:
                    savepoint.rollback()
        db.session.rollback()
    table = list(zip([(sid, name, o) for sid, name in cases for o in (False, True)], device, server, strict=True))
    assert [row for row in table if row[1] != row[2]] == []
    # the table covers every outcome the door knows
    assert set(server) >= {"checked_in", "already_checked_in", "unknown_token", "revoked_token", "waitlisted",
                           "outside_age", "not_signed_up", "session_cancelled"}
    assert len(session_ids) < 4 or "session_not_now" in server


def test_a_captive_portal_or_a_hanging_request_counts_as_offline(page, world):
    slow = _youth("Sofie", world.activity_a)
    db.session.commit()
    slow_token = slow.pass_token
    _open_scanner(page, world.session_a.id)
    checkins = "**/api/v1/sessions/*/checkins"
    # the café's wifi answers every request with its log-in page
    page.route(checkins, lambda route: route.fulfill(status=200, content_type="text/html",
                                                     body="<html><body>Log ind på wifi</body></html>"))
    entry = _scan(page, world.youth.pass_token)
    assert (entry["name"], entry["code"], entry["offline"]) == ("Aisha", "checked_in", True)
    page.unroute(checkins)
    # a weak signal: the request never comes back; after the timeout the phone decides
    hanging = []
    page.route(checkins, lambda route: hanging.append(route))
    entry = _scan(page, slow_token)
    assert (entry["name"], entry["code"], entry["offline"]) == ("Sofie", "checked_in", True)
    assert _queued(page) == 2
    page.unroute(checkins)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => document.getElementById('scan-queue').hidden", timeout=20000)
    _fresh()
    assert db.session.scalar(select(func.count(Attendance.id)).where(
        Attendance.session_id == world.session_a.id)) == 2


def test_a_scanner_page_from_before_a_re_login_still_sends(page, world):
    _open_scanner(page, world.session_a.id)
    other = page.context.new_page()
    other.goto(f"/institutions/{world.inst_a.id}/today")
    with other.expect_navigation():
        other.get_by_role("button", name="Log ud").click()
    login(other, "staff.a@example.org")  # a new log-in in another tab: a new session and CSRF token
    other.close()
    entry = _scan(page, world.youth.pass_token)
    assert (entry["name"], entry["code"], entry["offline"]) == ("Aisha", "checked_in", False)
    assert page.locator("#scan-login").is_hidden()


def test_yesterdays_roster_decides_nothing(page, world):
    _open_scanner(page, world.session_a.id)
    code = page.evaluate("""async (token) => {
      const rules = await import('/static/js/door-rules.js');
      const roster = await (await fetch('/api/v1/door/roster')).json();
      const hash = await rules.passHash(roster.salt, token);
      const sid = Object.keys(roster.sessions)[0];
      const today = rules.decide(roster, sid, hash, new Date()).code;
      const tomorrow = rules.decide(roster, sid, hash, new Date(Date.parse(roster.expires_at) + 1000)).code;
      return [today, tomorrow];
    }""", world.youth.pass_token)
    assert code == ["checked_in", "no_roster"]


def test_the_device_reads_the_age_on_the_sessions_own_day(page, world, app):
    """At 00:30 on the 1st, yesterday's late club still reads a young person born this month as the
    server does (13, inside 10–13), not as today's 14."""
    from datetime import timedelta

    from youthclub.attendance.roster import door_roster
    from youthclub.i18n import to_utc

    first = (local_today().replace(day=28) + timedelta(days=4)).replace(day=1)
    club = make_activity(world.inst_a, min_age=10, max_age=13, allows_drop_in=False)
    late = make_session(club, day=first - timedelta(days=1), start=time(22, 0), end=time(1, 0))
    turning = _youth("Nour", club, birth_year=first.year - 14, birth_month=first.month)
    db.session.commit()
    at = to_utc(first, time(0, 30))
    with app.test_request_context():
        roster = door_roster(db.session.get(type(world.staff_a), world.staff_a.id), at)
        server_age = turning.age_on(services.session_day(late))
    page.goto("/")
    device = page.evaluate("""async ([roster, sid, token, at]) => {
      const rules = await import('/static/js/door-rules.js');
      const hash = await rules.passHash(roster.salt, token);
      return rules.decide(roster, sid, hash, new Date(at));
    }""", [roster, late.id, turning.pass_token, at.isoformat()])
    assert server_age == 13
    assert (device["code"], device["age"]) == ("checked_in", 13)


def test_offline_a_scan_on_a_session_that_is_not_on_now_is_refused_not_saved(page, world):
    """Next week's session, reached through its roll-call's Scan tab: with no signal a scan there is refused
    at once with the session's date (the page knows its own window), never shown as saved."""
    from datetime import timedelta

    later = make_session(world.activity_a, day=local_today() + timedelta(days=7))
    db.session.commit()
    later_id = later.id
    _open_scanner(page, later_id)
    page.context.set_offline(True)
    entry = _scan(page, world.youth.pass_token)
    assert (entry["code"], entry["offline"]) == ("session_not_now", True), entry
    assert entry["kind"] == "refused"
    assert _queued(page) == 0
    page.context.set_offline(False)
    _fresh()
    assert db.session.scalar(select(func.count(ScanConflict.id))) == 0


def test_a_captive_portal_answering_the_queues_sync_keeps_every_scan(page, world):
    """Back 'online' behind a café's wifi log-in: the batch is answered with a 200 HTML page. The queue stays as
    it is (nothing counted as sent), and once the real network is there every scan arrives, once."""
    youths = [_youth(f"Portal{i}", world.activity_a) for i in range(3)]
    db.session.commit()
    tokens, session_id = [y.pass_token for y in youths], world.session_a.id
    _open_scanner(page, session_id)
    _go_offline_and_reload(page)
    for token in tokens:
        assert _scan(page, token)["code"] == "checked_in"
    portal = []
    page.route("**/api/v1/checkins/batch", lambda route: (portal.append(1), route.fulfill(
        status=200, content_type="text/html", body="<html><body>Accepter vilkårene</body></html>")))
    page.route("**/api/v1/door/roster", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<html><body>Accepter vilkårene</body></html>"))
    page.context.set_offline(False)
    waited = 0
    while not portal:
        assert waited < 20000
        page.wait_for_timeout(100)
        waited += 100
    page.wait_for_timeout(300)
    assert _queued(page) == 3
    expect(page.locator("#scan-network")).to_have_text("Ingen forbindelse", use_inner_text=True)
    # the roster on the device survived the portal's page
    assert page.evaluate("""async () => !!(await (await import('/static/js/offline-queue.js')).getRoster())""")
    page.unroute("**/api/v1/checkins/batch")
    page.unroute("**/api/v1/door/roster")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => document.getElementById('scan-queue').hidden", timeout=20000)
    _fresh()
    rows = db.session.scalars(select(Attendance).where(Attendance.session_id == session_id)).all()
    assert sorted(a.youth_id for a in rows) == sorted(y.id for y in youths)


def test_the_count_keeps_the_queue_across_offline_reloads_and_counts_each_once_after(page, world):
    """Outside test: offline, a scan made the count 3 with 2 queued; reopened offline, the count was
    2 with the same 2 queued. The count is the server's as the device last knew it plus the queued
    check-ins, whatever copy of the page it is opened from."""
    session_id = world.session_a.id
    attend(_youth("Inde", world.activity_a), world.session_a)
    online_one, queued = _youth("Online", world.activity_a), [_youth(f"Kø{i}", world.activity_a) for i in range(2)]
    db.session.commit()
    tokens = [online_one.pass_token, *(y.pass_token for y in queued)]
    _open_scanner(page, session_id)
    count = page.locator("#scan-count")
    assert count.inner_text() == "1"
    assert _scan(page, tokens[0])["code"] == "checked_in" and count.inner_text() == "2"  # online
    _go_offline_and_reload(page)  # the kept copy of the page was read before that scan
    assert count.inner_text() == "2"
    for token in tokens[1:]:
        assert _scan(page, token)["offline"]
    assert (count.inner_text(), page.locator("#scan-queue").inner_text()) == ("4", "I kø: 2")
    page.reload()  # still offline
    page.wait_for_function(READY, timeout=20000)
    assert (count.inner_text(), page.locator("#scan-queue").inner_text()) == ("4", "I kø: 2")
    page.context.set_offline(False)
    page.wait_for_function("() => document.getElementById('scan-queue').hidden", timeout=20000)
    assert count.inner_text() == "4"
    _fresh()
    assert db.session.scalar(select(func.count(Attendance.id)).where(Attendance.session_id == session_id)) == 4


def test_a_pass_checked_in_online_is_already_in_when_scanned_again_offline(page, world):
    """The roster learns the scans answered online: once the signal is gone the device says "already
    in", as the server would, and queues (and counts) nothing."""
    youth = _youth("Tobias", world.activity_a)
    db.session.commit()
    token, session_id = youth.pass_token, world.session_a.id
    _open_scanner(page, session_id)
    assert _scan(page, token)["code"] == "checked_in"
    page.context.set_offline(True)
    page.wait_for_timeout(3100)  # past the scanner's "same pass again is the same scan" pause
    again = _scan(page, token)
    assert (again["code"], again["offline"]) == ("already_checked_in", True), again
    assert _queued(page) == 0 and page.locator("#scan-count").inner_text() == "1"
    page.reload()  # offline, from the kept page and the kept roster
    page.wait_for_function(READY, timeout=20000)
    page.wait_for_timeout(3100)
    assert _scan(page, token)["code"] == "already_checked_in"
    assert _queued(page) == 0
