"""Staff pages for one session: the scanner, roll-call, head counts and offline-scan conflicts."""
from __future__ import annotations

import json

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts.access import (
    get_door_session_or_403,
    get_roster_session_or_403,
    get_youth_or_404,
    is_staff_or_coordinator,
    require,
)
from ..accounts.models import Gender
from ..accounts.youth_services import youth_details
from ..audit.services import audited_page
from ..database import parse_db_id
from ..db_types import utcnow
from ..errors import DomainError
from ..extensions import db
from ..formutil import saved_or_refused
from . import services
from .models import AgeBand, Attendance, ScanConflict
from .views import bp

AGE_BAND_LABELS = {
    AgeBand.UNDER_13: "< 13",
    AgeBand.AGE_13_15: "13–15",
    AgeBand.AGE_16_17: "16–17",
    AgeBand.AGE_18_24: "18–24",
}


def gender_labels() -> dict:
    return {Gender.PIGE: _("Piger"), Gender.DRENG: _("Drenge"), Gender.ANDET: _("Andet"), Gender.UOPLYST: _("Uoplyst")}


def scanner_texts() -> dict:
    """Texts the scanner script shows, in the page's language."""
    return {
        "checked_in": _("Tjekket ind"),
        "drop_in": _("drop-in"),
        "already": _("Allerede tjekket ind kl. %(time)s", time="{time}"),
        "years": _("%(age)s år", age="{age}"),
        "override": _("Lad komme ind alligevel"),
        "saved": _("Gemt, synkroniseres senere"),
        "queued": _("I kø: %(n)s", n="{n}"),
        "synced": _("Synkroniseret"),
        "offline": _("Ingen forbindelse"),
        "online": _("Online"),
        "camera_error": _("Kameraet kunne ikke startes. Brug navnesøgningen."),
        "no_results": _("Ingen fundet."),
        "error": _("Noget gik galt. Prøv igen."),
        "check_in": _("Tjek ind"),
        "not_saved": _("IKKE gemt! Telefonen kunne ikke gemme scanningen. Skriv navnet ned eller brug afkrydsningslisten."),
        "unknown_saved": _("Ukendt her: gemt og tjekkes, når der er net"),
        "syncing": _("Sender %(done)s af %(total)s …", done="{done}", total="{total}"),
        "difference": _("%(name)s: offline %(device)s, serveren: %(server)s", name="{name}", device="{device}",
                        server="{server}"),
        "accepted_later": _("tjekket ind ved synkronisering"),
        "roster_none": _("Ingen dørliste på telefonen: uden net gemmes scanninger uden navn."),
        "roster_age": _("Dørliste hentet kl. %(time)s", time="{time}"),
        "logout_queued": _("%(n)s scanninger er ikke sendt endnu og går tabt ved log ud. Log ud alligevel?", n="{n}"),
        "codes": {code: services.refusal_message(code)
                  for code in (*services.REFUSAL_CODES, "nonce_conflict", "scanned_in_future")},
    }


@bp.route("/scan/<int:session_id>")
@require(is_staff_or_coordinator)
def scanner(session_id: int):
    """The door scanner: camera, rapid mode, name search, offline queue."""
    session = get_door_session_or_403(session_id)
    return render_template(
        "attendance/scanner.html", session=session, count=services.checked_in_count(session),
        # when the count was read (ms since 1970): a copy of this page opened offline later is older than
        # what the scanner has seen since, and the scanner keeps the newer (scanner.js)
        count_at=int(utcnow().timestamp() * 1000),
        conflicts=services.open_conflicts(session), texts=json.dumps(scanner_texts(), ensure_ascii=False),
        happening=services.is_happening(session), not_now=services.not_now_message(session),
        window=services.checkin_window(session), batch_max=services.MAX_BATCH,
    )


@bp.route("/sessions/<int:session_id>/youth-search")
@require(is_staff_or_coordinator)
def youth_search(session_id: int):
    """Young people the staff member may see, by name (JSON for the scanner and roll-call)."""
    session = get_door_session_or_403(session_id)
    day = services.session_day(session)
    checked = set(db.session.scalars(select(Attendance.youth_id).where(Attendance.session_id == session.id)))
    youths = services.search_youths(session, request.args.get("q", ""), current_user)
    return jsonify({"results": [
        {"id": y.id, "name": y.display_name, "age": y.age_on(day), "checked_in": y.id in checked,
         "details": str(youth_details(y, current_user, day))} for y in youths
    ]})


@bp.route("/sessions/<int:session_id>/rollcall", methods=["GET", "POST"])
@require(is_staff_or_coordinator)
def rollcall(session_id: int):
    """Roll-call: tick who is here, tick all, undo, add a drop-in by name; conflicts from offline scans."""
    session = get_roster_session_or_403(session_id)
    if request.method == "POST":
        action = request.form.get("action")
        reason = request.form.get("reason")
        try:
            if action == "present":
                youth = get_youth_or_404(parse_db_id(request.form.get("youth_id")))
                result = services.mark_present(session, youth, current_user, reason=reason)
                if result.created:
                    flash(_("%(name)s er tjekket ind.", name=youth.first_name), "success")
            elif action == "all":
                added = 0
                for youth, attendance, signup in services.roll_call(session):
                    if attendance is None and signup is not None:
                        added += services.mark_present(session, youth, current_user, reason=reason).created
                flash(_("%(n)s tjekket ind.", n=added), "success")
            elif action == "absent":
                attendance_id = parse_db_id(request.form.get("attendance_id"))
                attendance = db.session.get(Attendance, attendance_id) if attendance_id else None
                if attendance is None or attendance.session_id != session.id:
                    abort(404)
                services.remove_attendance(attendance, current_user, reason=reason)
                flash(_("Fremmødet er fjernet."), "success")
            else:
                abort(400)
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
            return redirect(url_for("attendance.rollcall", session_id=session.id))
        db.session.commit()
        return redirect(url_for("attendance.rollcall", session_id=session.id))
    query = request.args.get("q", "").strip()
    found = services.search_youths(session, query, current_user) if query else []
    rows = services.roll_call(session)
    html = render_template(
        "attendance/rollcall.html", session=session, rows=rows, query=query, found=found,
        present={y.id for y, a, _s in rows if a is not None}, count=services.roll_call_count(rows), day=services.session_day(session),
        needs_reason=services.needs_reason(session.ends_at), conflicts=services.open_conflicts(session),
        late=lambda a: services.needs_reason(a.recorded_at),
    )
    return audited_page("roster.view", session, html, page="rollcall")


@bp.route("/sessions/<int:session_id>/conflicts/<int:conflict_id>/resolve", methods=["POST"])
@require(is_staff_or_coordinator)
def conflict_resolve(session_id: int, conflict_id: int):
    """Mark an offline scan's refusal as seen."""
    session = get_roster_session_or_403(session_id)
    conflict = db.session.get(ScanConflict, conflict_id)
    if conflict is None or conflict.session_id != session.id:
        abort(404)
    services.resolve_conflict(conflict, current_user)
    db.session.commit()
    return redirect(url_for("attendance.rollcall", session_id=session.id))


@bp.route("/sessions/<int:session_id>/headcount", methods=["GET", "POST"])
@require(is_staff_or_coordinator)
def headcount(session_id: int):
    """Tally anonymous drop-ins by age band and gender with + and − buttons: its institution's staff (and admins,
    as for the roster); a session's exact cells are small numbers a coordinator sees only as released figures."""
    session = get_roster_session_or_403(session_id)
    if request.method == "POST":
        try:
            band = AgeBand(request.form.get("band", ""))
            gender = Gender(request.form.get("gender", ""))
            delta = int(request.form.get("delta", "0"))
            seen = int(request.form.get("seen", ""))
        except ValueError:
            abort(400)
        with saved_or_refused():
            services.adjust_head_count(session, band, gender, delta, current_user, seen=seen,
                                       reason=request.form.get("reason"))
        return redirect(url_for("attendance.headcount", session_id=session.id, _anchor=f"cell-{band}-{gender}"))
    counts = services.head_counts(session)
    return render_template(
        "attendance/headcount.html", session=session, counts=counts, bands=AGE_BAND_LABELS,
        genders=gender_labels(), total=sum(counts.values()), needs_reason=services.needs_reason(session.ends_at),
        later=services.scan_state(session) == "later", not_now=services.not_now_message(session),
        cancelled=session.is_cancelled,
    )
