"""Second-factor rules: who must use one, setting up an authenticator app, checking codes, recovery codes.

A code is a 6-digit TOTP (RFC 6238, 30-second steps) accepted one step early or late, and
never twice: the last accepted step is stored and only later steps count. Recovery codes
are shown once, stored hashed and each works once. Services flush, never commit.
"""
from __future__ import annotations

import hmac
import secrets
import time
import unicodedata

import pyotp
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..accounts.models import Role
from ..accounts.services import end_sessions
from ..accounts.youth_services import hash_secret
from ..audit.services import record_event
from ..database import lock_row
from ..db_types import utcnow
from ..errors import DomainError
from ..extensions import db
from .models import RecoveryCode, TotpFactor

#: seconds per TOTP step, and how many steps early or late a code may be
STEP_SECONDS = 30
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
#: no 0/o, 1/i/l: recovery codes are read off paper
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class MfaError(DomainError):
    pass


def required_roles() -> set[Role]:
    """The roles ``MFA_REQUIRED_ROLES`` names (unknown names are ignored)."""
    names = current_app.config.get("MFA_REQUIRED_ROLES") or ()
    return {Role(name) for name in names if name in Role._value2member_map_}


def may_use_second_factor(user) -> bool:
    """Everyone but young people, who are never asked for one."""
    return not (user.is_youth and not user.memberships)


def is_required(user) -> bool:
    """Whether ``user`` holds a role that must log in with a second factor."""
    if not may_use_second_factor(user):
        return False
    roles = required_roles()
    return any(m.role in roles for m in user.memberships)


def confirmed_factor(user) -> TotpFactor | None:
    return db.session.scalar(
        select(TotpFactor).where(TotpFactor.user_id == user.id, TotpFactor.confirmed_at.is_not(None))
    )


def needs_second_factor(user) -> bool:
    """A code is asked for at log-in: the role requires it, or the user set one up anyway."""
    return may_use_second_factor(user) and (is_required(user) or confirmed_factor(user) is not None)


def token_made_under_second_factor(user, token_created_at, factor_confirmed_at) -> bool:
    """May an API token of ``user`` act for them: a password alone opens nothing, so for a role that
    requires a second factor the token must have been made after that factor was set up (in a session
    that passed it). A token made while the role did not need one (promoted since, or
    ``MFA_REQUIRED_ROLES`` widened), or under a factor that was reset, does not."""
    if not is_required(user):
        return True
    return factor_confirmed_at is not None and token_created_at is not None and token_created_at >= factor_confirmed_at


def current_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP_SECONDS)


def code_for_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def next_usable_code(factor: TotpFactor, at: float | None = None) -> str | None:
    """The code that would be accepted now (for the demo's `mfa-code` command), or None until the next step."""
    now = current_step(at)
    step = max(now, (factor.last_step or 0) + 1)
    return code_for_step(factor.secret, step) if step <= now + VALID_WINDOW else None


def provisioning_uri(user, factor: TotpFactor) -> str:
    """The ``otpauth://`` link an authenticator app reads from the QR code."""
    return pyotp.TOTP(factor.secret).provisioning_uri(name=user.email, issuer_name=current_app.config["MFA_ISSUER"])


def begin_enrollment(user, *, new_key: bool = False) -> TotpFactor:
    """The not-yet-confirmed factor ``user`` is setting up (the same one until it is confirmed);
    with ``new_key`` its key is replaced, so whoever saw the old one cannot use it."""
    if not may_use_second_factor(user):
        raise MfaError(_("Unge bruger ikke to-trins-login."), "not_allowed", status=403)
    factor = db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id))
    if factor is not None and factor.confirmed_at is not None:
        raise MfaError(_("To-trins-login er allerede slået til."), "already_enrolled", status=409)
    if factor is None:
        factor = TotpFactor(user_id=user.id, secret=pyotp.random_base32())
        db.session.add(factor)
        db.session.flush()
    elif new_key:
        factor.secret = pyotp.random_base32()
        factor.last_step = None
        db.session.flush()
    return factor


def key_mark(factor: TotpFactor) -> str:
    """What a browser keeps of the key its set-up page showed (a hash: the key itself stays on the server)."""
    return hash_secret("totp-key:" + factor.secret)[:32]


def _normalise(code: str | None) -> str:
    """Without spaces and dashes, lower-case, with the digits of any script as ASCII digits.

    A phone set to Arabic or Persian, or a full-width keyboard, types "١٢٣٤٥٦" or "１２３４５６".
    """
    code = "".join((code or "").split()).replace("-", "").lower()
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in code)


def _accepted_step(factor: TotpFactor, code: str, at: float | None) -> int | None:
    """The step within the window whose code is ``code`` and that is later than the last one used."""
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        return None
    now = current_step(at)
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if factor.last_step is not None and step <= factor.last_step:
            continue
        if hmac.compare_digest(code_for_step(factor.secret, step), code):
            return step
    return None


def _invalid_code() -> MfaError:
    return MfaError(_("Koden er forkert eller allerede brugt. Prøv den næste kode fra appen."), "invalid_code", status=401)


def confirm_enrollment(user, code: str, *, at: float | None = None) -> list[str]:
    """Turn the app on once ``code`` proves it works; returns the new recovery codes (shown once)."""
    factor = begin_enrollment(user)
    factor = lock_row(TotpFactor, factor.id)
    step = _accepted_step(factor, _normalise(code), at)
    if step is None:
        raise _invalid_code()
    factor.last_step = step
    factor.confirmed_at = utcnow()
    codes = issue_recovery_codes(user)
    record_event("mfa.enroll", user, user=user)
    return codes


def issue_recovery_codes(user) -> list[str]:
    """New recovery codes for ``user``; the old ones stop working."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _i in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _j in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_secret(raw)))
    db.session.flush()
    return codes


def remaining_recovery_codes(user) -> int:
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ) or 0


def verify_second_factor(user, code: str, *, at: float | None = None) -> str:
    """Check the code typed at log-in: "totp" or "recovery" when accepted, MfaError("invalid_code") otherwise.

    Every answer is audited; the failure too (the caller commits it).
    """
    factor = confirmed_factor(user)
    if factor is None:
        raise MfaError(_("Du skal først slå to-trins-login til."), "not_enrolled", status=403)
    factor = lock_row(TotpFactor, factor.id)  # two requests with one code: the second waits, then fails
    code = _normalise(code)
    step = _accepted_step(factor, code, at)
    if step is not None:
        factor.last_step = step
        record_event("mfa.success", user, user=user)
        return "totp"
    if len(code) == 10:
        recovery = db.session.scalar(
            select(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == hash_secret(code),
                   RecoveryCode.used_at.is_(None))
            .with_for_update()
        )
        if recovery is not None:
            recovery.used_at = utcnow()
            record_event("mfa.recovery_code_used", user, user=user, remaining=remaining_recovery_codes(user) - 1)
            db.session.flush()
            return "recovery"
    record_event("mfa.failure", user, user=user)
    db.session.flush()
    raise _invalid_code()


def reset_factor(user, by_user) -> None:
    """Remove ``user``'s app and recovery codes (an admin's support action); their sessions and API
    tokens end (the lost phone may be in someone's hands), and they set it up again at the next
    log-in when their role requires it."""
    db.session.execute(delete(TotpFactor).where(TotpFactor.user_id == user.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_sessions(user, tokens=True)
    record_event("mfa.reset", user, user=by_user)
    db.session.flush()


def set_known_secret(user, secret: str) -> TotpFactor:
    """Give a demo login an app with a published secret (``seed-demo``, never in production)."""
    factor = db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id))
    if factor is None:
        factor = TotpFactor(user_id=user.id, secret=secret)
        db.session.add(factor)
    factor.secret, factor.confirmed_at, factor.last_step = secret, factor.confirmed_at or utcnow(), None
    db.session.flush()
    return factor


def factor_of(user) -> TotpFactor | None:
    return db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id))

