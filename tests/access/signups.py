"""Access rules for sign-ups, young people's accounts, consent, the outbox and the sign-up API."""
from . import DENY, LOGIN, OK, names_of_institution_a, public, roles, youth_only


def _reset_token(w):
    from youthclub.accounts import youth_services
    from youthclub.extensions import db

    secret = "matrix-reset-secret"
    youth_services._issue_token(youth_services.TokenPurpose.PASSWORD_RESET, secret, youth_services.RESET_TTL,
                                user_id=w.staff_a.id)
    db.session.commit()
    return {"token": secret}


def _consent_token(w):
    from youthclub.accounts import youth_services
    from youthclub.accounts.models import ConsentKind, ConsentRecord
    from youthclub.extensions import db

    record = ConsentRecord(youth_id=w.youth.id, kind=ConsentKind.PHOTOS, guardian_email="far@example.org",
                           notice_version=youth_services.CONSENT_NOTICE_VERSION)
    db.session.add(record)
    db.session.flush()
    secret = "matrix-consent-secret"
    youth_services._issue_token(youth_services.TokenPurpose.GUARDIAN_CONSENT, secret, youth_services.GUARDIAN_TTL,
                                youth_id=w.youth.id, consent_id=record.id)
    db.session.commit()
    return {"token": secret}


def _registration_token(w):
    from youthclub.accounts import youth_services
    from youthclub.accounts.models import OneTimeToken, TokenPurpose
    from youthclub.db_types import utcnow
    from youthclub.extensions import db

    secret = "matrix-registration-secret"
    db.session.add(OneTimeToken(
        purpose=TokenPurpose.REGISTRATION_CONFIRM, token_hash=youth_services.hash_secret(secret),
        expires_at=utcnow() + youth_services.CONFIRM_TTL,
        payload={"first_name": "Ny", "last_name": None, "birth_year": 2012, "birth_month": 3, "gender": None,
                 "home_district_id": 0, "email": "ny.matrix@example.org", "password_hash": "x", "locale": "da",
                 "next": None},
    ))
    db.session.commit()
    return {"token": secret}


def _calendar_token(w):
    from youthclub.extensions import db

    w.youth.calendar_token = "matrix-calendar-token"
    db.session.commit()
    return {"token": w.youth.calendar_token}


def _staff_made_youth(w):
    from tests.factories import make_youth
    from youthclub.extensions import db

    youth = make_youth(first_name="Uden")
    youth.registered_by_institution_id = w.inst_a.id
    db.session.commit()
    return {"youth_id": youth.id}


#: logged-in users are sent on (302) from the registration screens; that is access, not a refusal
_anonymous_flow = public()

RULES = {
    "signups.sign_up": youth_only(),
    "signups.cancel": youth_only(),
    "signups.my_activities": youth_only(),
    "signups.calendar_new": youth_only(),
    "signups.calendar_revoke": youth_only(),
    "signups.calendar_feed": {**public(), "params": _calendar_token},
    "signups.activity_signups": names_of_institution_a(),
    "signups.staff_cancel": names_of_institution_a(),
    # names of people to tell: the institution's own staff only
    "signups.mark_told": roles(DENY, anonymous=LOGIN, staff_a=OK, inst_admin_a=OK),
    "accounts.register": _anonymous_flow,
    "accounts.register_login": _anonymous_flow,
    "accounts.register_confirm": {**public(), "params": _registration_token},
    "accounts.claim": _anonymous_flow,
    "accounts.password_forgot": public(),
    "accounts.password_reset": {**public(), "params": _reset_token},
    "accounts.guardian_consent": {**public(), "params": _consent_token},
    "accounts.consents": youth_only(),
    "accounts.consent_withdraw": {**youth_only(), "params": lambda w: {"kind": "photos"}},
    "accounts.youth_new": names_of_institution_a(),
    "accounts.youth": names_of_institution_a(),
    "accounts.youth_claim_code": {**names_of_institution_a(), "params": _staff_made_youth},
    "api.api_sign_up": roles(OK, anonymous=LOGIN, staff_a=DENY, staff_b=DENY, inst_admin_a=DENY,
                             coordinator=DENY, admin=DENY),
    "api.api_cancel_signup": roles(DENY, anonymous=LOGIN, youth=OK, staff_a=OK, inst_admin_a=OK, admin=OK),
}
