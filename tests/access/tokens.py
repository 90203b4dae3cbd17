from . import DENY, LOGIN, logged_in, roles

RULES = {
    "attendance.tokens.create": logged_in(),
    # only the owner may revoke; for anyone else (here: a token that is nobody's) it is a 404
    "attendance.tokens.revoke": {"params": lambda w: {"token_id": 0}, **roles(DENY, anonymous=LOGIN)},
}
