from . import coordinator_only, logged_in, public, youth_only

RULES = {
    "privacy.privacy": public(),
    "privacy.my_data": logged_in(),
    "privacy.my_data_page": logged_in(),
    "privacy.close_account": youth_only(),
    "privacy.audit_log": coordinator_only(),
}
