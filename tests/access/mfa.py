from . import DENY, LOGIN, OK, admin_only, roles

RULES = {
    # without a password just given, the code step sends everyone to log in (or home when logged in)
    "mfa.challenge": roles(OK, anonymous=LOGIN),
    # setting up the app: everyone who logs in but young people, who are never asked
    "mfa.enroll": roles(OK, anonymous=LOGIN, youth=DENY),
    "mfa.reset": admin_only(),
}
