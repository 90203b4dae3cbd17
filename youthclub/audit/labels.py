"""What the audit log's codes mean, in words (Danish, with English in the catalogue).

Every action a module records has a label here; ``tests/security/test_privacy.py`` reads the
code for ``record_event("...")`` and ``audited_page("...")`` and fails on one without. An
unknown code (an old event, say) is shown as it is.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "action_plan.create": _l("Handlingsplan oprettet"),
    "audit.view": _l("Hændelseslog med begrundelser set"),
    "action_plan.update": _l("Handlingsplan ændret"),
    "activity.cancel": _l("Tilbud aflyst"),
    "activity.create": _l("Tilbud oprettet"),
    "activity.publish": _l("Tilbud offentliggjort"),
    "activity.restore": _l("Aflysning af tilbud fortrudt"),
    "activity.tag": _l("Tilbud tagget med indsatsområde eller indsats"),
    "activity.unpublish": _l("Tilbud taget af"),
    "activity.update": _l("Tilbud ændret"),
    "api_token.create": _l("API-nøgle oprettet"),
    "api_token.revoke": _l("API-nøgle tilbagekaldt"),
    "attendance.correct": _l("Fremmøde rettet"),
    "consent.grant": _l("Samtykke givet"),
    "consent.request": _l("Samtykke bedt om"),
    "consent.withdraw": _l("Samtykke trukket tilbage"),
    "headcount.correct": _l("Optælling rettet"),
    "initiative.create": _l("Indsats oprettet"),
    "initiative.delete": _l("Indsats slettet"),
    "initiative.update": _l("Indsats ændret"),
    "institution.create": _l("Institution oprettet"),
    "institution.update": _l("Institution ændret"),
    "mfa.enroll": _l("To-trins-login slået til"),
    "mfa.failure": _l("Forkert kode ved to-trins-login"),
    "mfa.recovery_code_used": _l("Gendannelseskode brugt ved login"),
    "mfa.reset": _l("To-trins-login nulstillet"),
    "mfa.success": _l("Logget ind med to-trins-login"),
    "outbox.view": _l("Udgående post set"),
    "outbox.retry": _l("Fejlet mail sendt igen"),
    "pass.revoke": _l("Adgangskort spærret"),
    "pattern.create": _l("Fast ugeplan oprettet"),
    "pattern.update": _l("Fast ugeplan ændret"),
    "privacy.data_download": _l("Egne data hentet"),
    "privacy.purge": _l("Sletning efter opbevaringsfristen"),
    "role.grant": _l("Rolle givet"),
    "role.revoke": _l("Rolle frataget"),
    "roster.view": _l("Deltagerliste set"),
    "scan_conflict.resolve": _l("Afvist offline-scanning set"),
    "session.cancel": _l("Gang aflyst"),
    "session.move": _l("Gang flyttet"),
    "session.restore": _l("Gang genoptaget"),
    "signup.cancel": _l("Tilmelding afmeldt"),
    "staff.remove": _l("Medarbejder fjernet fra institution"),
    "staff.invite": _l("Medarbejder inviteret"),
    "staff.invitation_accept": _l("Invitation som medarbejder taget imod"),
    "staff.invitation_withdraw": _l("Invitation som medarbejder trukket tilbage"),
    "signup.create": _l("Tilmelding"),
    "signup.promote": _l("Rykket op fra venteliste"),
    "signup.told": _l("Personalet har givet besked om pladsen"),
    "stats.export": _l("Statistik eksporteret"),
    "stats.view": _l("Statistik vist"),
    "user.activate": _l("Bruger aktiveret"),
    "user.create": _l("Bruger oprettet"),
    "user.deactivate": _l("Bruger deaktiveret"),
    "user.invite": _l("Invitation til ny bruger sendt"),
    "user.password_change": _l("Adgangskode skiftet"),
    "user.password_reset": _l("Adgangskode nulstillet"),
    "user.password_reset_requested": _l("Nulstilling af adgangskode bedt om"),
    "youth.anonymise": _l("Ung anonymiseret"),
    "youth.calendar_revoke": _l("Kalenderlink spærret"),
    "youth.calendar_token": _l("Kalenderlink lavet"),
    "youth.claim": _l("Profil overtaget med kode"),
    "youth.claim_code": _l("Kode til profil lavet"),
    "youth.merge": _l("To profiler af samme unge slået sammen"),
    "youth.register": _l("Ung oprettet (selv)"),
    "youth.register_by_staff": _l("Ung oprettet af personale"),
    "youth.view": _l("Ungs side set"),
}

#: the tables events are about
OBJECT_LABELS = {
    "action_plan": _l("handlingsplan"),
    "activity": _l("tilbud"),
    "api_token": _l("API-nøgle"),
    "attendance": _l("fremmøde"),
    "consent_record": _l("samtykke"),
    "head_count": _l("optælling"),
    "initiative": _l("indsats"),
    "institution": _l("institution"),
    "membership": _l("rolle"),
    "outbox_message": _l("mail"),
    "scan_conflict": _l("offline-scanning"),
    "session": _l("gang"),
    "session_pattern": _l("ugeplan"),
    "signup": _l("tilmelding"),
    "user": _l("bruger"),
    "youth_profile": _l("ung"),
}


def action_label(code: str | None) -> str:
    return str(ACTION_LABELS[code]) if code in ACTION_LABELS else (code or "")


def object_label(table: str | None) -> str:
    return str(OBJECT_LABELS[table]) if table in OBJECT_LABELS else (table or "")
