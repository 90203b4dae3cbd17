from . import OK, admin_only, coordinator_only, institution_a, institution_a_admin, logged_in, public, roles

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
    "programme.institutions": coordinator_only(),
    "programme.institution_new": coordinator_only(),
    "programme.institution": institution_a(),
    "programme.institution_edit": coordinator_only(),
    "api.openapi": public(),
    "api.me": roles(OK, anonymous="login"),
}
