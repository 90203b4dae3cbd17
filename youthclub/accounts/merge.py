"""Merging two profiles of one young person into one (``merge_youths``).

Everything the removed profile holds moves to the kept one: attendances (one per session),
sign-ups (one per activity), consents, claim codes and guardian links, the login, mail
history and refused passes. The kept profile's pass stays valid; the removed profile's pass
is revoked and recorded against the kept profile, so scanning it answers "the pass is
revoked, ask for the new one" and staff find the young person by name. The removed
profile's row is then deleted, so it is gone from every search and every count.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update

from ..activities.models import Activity
from ..attendance import services as attendance
from ..audit.services import record_event
from ..database import lock_row
from ..db_types import utcnow
from ..errors import DomainError
from ..extensions import db
from ..mail.models import OutboxMessage
from ..signups import services as signups
from .access import can_merge_youths
from .models import ConsentRecord, Gender, OneTimeToken, RevokedPass, TokenPurpose, YouthProfile

#: every table that points at a young person, and so must be moved by a merge
#: (``tests/accounts/test_merge.py`` fails when a new one is not listed here)
MOVED_TABLES = frozenset({
    "attendance", "scan_conflict", "signup", "consent_record", "one_time_token", "revoked_pass", "outbox_message",
    "visit_month",  # kept by the attendance triggers
    # a closed year's kept sums: the moved visits make its year stale, the removed profile's rows go with it
    "figures_people_year",
})


class MergeError(DomainError):
    pass


def merge_youths(keep: YouthProfile, remove: YouthProfile, actor) -> YouthProfile:
    """Merge ``remove`` into ``keep`` (the same young person registered twice); returns ``keep``.

    Raises MergeError: ``same_profile``, ``not_found``, ``forbidden`` (see ``can_merge_youths``)
    or ``both_have_login``. Locks, in this order: the activities both hold sign-ups for, then
    both profiles (lower id first), so concurrent check-ins and sign-ups of either wait.
    """
    if keep.id == remove.id:
        raise MergeError(_("Vælg to forskellige profiler."), "same_profile", status=409)
    for activity_id in signups.signup_activity_ids(keep.id, remove.id):
        lock_row(Activity, activity_id)
    locked = {youth.id: lock_row(YouthProfile, youth.id) for youth in sorted((keep, remove), key=lambda y: y.id)}
    keep, remove = locked[keep.id], locked[remove.id]
    if keep is None or remove is None or keep.anonymised_at is not None or remove.anonymised_at is not None:
        raise MergeError(_("Profilen findes ikke længere."), "not_found", status=404)
    if not can_merge_youths(actor, keep, remove):
        raise MergeError(_("Du kan kun slå profiler sammen, som din institution har registreret."), "forbidden",
                         status=403)
    if keep.user_id is not None and remove.user_id is not None:
        raise MergeError(_("Begge profiler har deres eget login. Den unge skal selv lukke den ene konto."),
                         "both_have_login", status=409)

    removed_id, removed_token = remove.id, remove.pass_token
    duplicate_visits = attendance.move_attendances(remove, keep)
    cancelled = signups.move_signups(remove, keep, by_user=actor)
    keep, remove = db.session.get_one(YouthProfile, keep.id), db.session.get_one(YouthProfile, removed_id)
    login = remove.user
    if login is not None:
        remove.user = None
        db.session.flush()
        keep.user = login
    _move_tokens(remove, keep, has_login=keep.user_id is not None or login is not None)
    for model in (ConsentRecord, RevokedPass, OutboxMessage):
        db.session.execute(update(model).where(model.youth_id == removed_id).values(youth_id=keep.id)
                           .execution_options(synchronize_session=False))
    db.session.add(RevokedPass(youth_id=keep.id, token_hash=attendance.hash_pass_token(removed_token)))
    _fill_blanks(keep, remove)
    db.session.delete(remove)
    db.session.flush()
    db.session.expire_all()
    record_event("youth.merge", keep, user=actor, removed_youth_id=removed_id,
                 duplicate_visits=duplicate_visits, cancelled_signups=len(cancelled))
    return keep


def _move_tokens(remove: YouthProfile, keep: YouthProfile, *, has_login: bool) -> None:
    """Guardian links move; claim codes move too, unless the kept profile has a login (then every one is spent)."""
    if has_login:
        db.session.execute(
            update(OneTimeToken).where(OneTimeToken.youth_id.in_((remove.id, keep.id)),
                                       OneTimeToken.purpose == TokenPurpose.CLAIM,
                                       OneTimeToken.used_at.is_(None)).values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    db.session.execute(update(OneTimeToken).where(OneTimeToken.youth_id == remove.id).values(youth_id=keep.id)
                       .execution_options(synchronize_session=False))


def _fill_blanks(keep: YouthProfile, remove: YouthProfile) -> None:
    """What the kept profile lacks, the removed one may know; the kept profile's own values win."""
    keep.last_name = keep.last_name or remove.last_name
    keep.contact = keep.contact or remove.contact
    if keep.gender == Gender.UOPLYST:
        keep.gender = remove.gender
    keep.created_at = min(keep.created_at, remove.created_at)
    keep.last_active_at = max(keep.last_active_at, remove.last_active_at)


def merge_candidates(youth: YouthProfile, actor) -> list[YouthProfile]:
    """Other profiles ``actor`` could merge with ``youth``: the same first name and birth month."""
    rows = db.session.scalars(
        select(YouthProfile).where(
            YouthProfile.id != youth.id, YouthProfile.anonymised_at.is_(None),
            YouthProfile.birth_year == youth.birth_year, YouthProfile.birth_month == youth.birth_month,
        ).order_by(YouthProfile.id)
    )
    name = youth.first_name.casefold()
    return [y for y in rows if y.first_name.casefold() == name and can_merge_youths(actor, youth, y)]
