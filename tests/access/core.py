from . import OK, admin_only, coordinator_only, institution_a, institution_a_admin, logged_in, public, roles


def _invitation(w) -> dict:
    """An open invitation of institution A to a new address, and the secret of its link."""
    from youthclub.accounts import invitations
    from youthclub.extensions import db

    invitation = invitations.invite_staff(w.inst_a, email="ny.matrix@example.org", name="Ny", role="staff",
                                          by_user=w.inst_admin_a)
    secret = "matrix-invitation-secret"
    invitation.token_hash = invitations.hash_secret(secret)
    db.session.commit()
    return {"invitation_id": invitation.id, "token": secret}


RULES = {
    "main.home": public(),
    "main.accessibility_statement": public(),
    "accounts.login": public(),
    "accounts.logout": public(),
    "accounts.set_language": public(),
    "accounts.account": logged_in(),
    "accounts.users": admin_only(),
    "accounts.user_new": admin_only(),
    "accounts.user_edit": admin_only(),
    "accounts.role_delete": admin_only(),
    "accounts.user_toggle_active": admin_only(),
    "accounts.institution_staff": institution_a_admin(),
    "accounts.institution_staff_remove": institution_a_admin(),
    "accounts.institution_invitation_withdraw": {**institution_a_admin(), "params": _invitation},
    # whoever holds the mailed link: a new address chooses a password there (a login's owner logs in first)
    "accounts.staff_invitation": {**public(), "params": _invitation},
    "programme.institutions": coordinator_only(),
    "programme.institution_new": coordinator_only(),
    "programme.institution": institution_a(),
    "programme.institution_edit": coordinator_only(),
    "api.openapi": public(),
    "api.me": roles(OK, anonymous="login"),
}
