"""Completing the second step of log-in in tests, for real: the app is set up with the key the
page shows (or the services, for the fast ``login_as``), and every code is computed with pyotp.

A code is accepted once: ``usable_code`` picks the next step the server has not seen, and
waits for the next 30-second step in the rare test that logs one user in three times within one.
"""
from __future__ import annotations

import re
import time

import pyotp
from sqlalchemy import select

from youthclub.extensions import db
from youthclub.mfa import services as mfa
from youthclub.mfa.models import TotpFactor

SECRET_RE = re.compile(r'<code id="mfa-secret">([A-Z2-7 ]+)</code>')
CHALLENGE, ENROLL = "/login/code", "/account/two-factor"


def secret_on_page(html: str) -> str:
    """The key the set-up page shows for typing into an app by hand."""
    match = SECRET_RE.search(html)
    assert match, "no key on the set-up page"
    return match.group(1).replace(" ", "")


def factor_of(email: str) -> TotpFactor | None:
    """The user's factor as the database has it now (not as this session last saw it)."""
    from youthclub.accounts.models import User

    stmt = (select(TotpFactor).join(User, User.id == TotpFactor.user_id).where(User.email == email)
            .execution_options(populate_existing=True))
    return db.session.scalar(stmt)


def usable_code(secret: str, last_step: int | None) -> str:
    """A code for a step inside the server's window that it has not accepted yet."""
    while True:
        now = mfa.current_step()
        step = max(now, (last_step or 0) + 1)
        if step <= now + mfa.VALID_WINDOW:
            return pyotp.TOTP(secret).generate_otp(step)
        time.sleep((now + 1) * mfa.STEP_SECONDS - time.time() + 0.05)


def code_for(email: str) -> str:
    factor = factor_of(email)
    assert factor is not None and factor.confirmed_at is not None, f"{email} has no authenticator app"
    return usable_code(factor.secret, factor.last_step)


def enroll(user) -> str:
    """Set up an app for ``user`` through the services, confirmed with a pyotp code; returns the secret."""
    factor = mfa.begin_enrollment(user)
    mfa.confirm_enrollment(user, pyotp.TOTP(factor.secret).now())
    db.session.flush()
    return factor.secret
