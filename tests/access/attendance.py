from . import DENY, LOGIN, OK, institution_a, public, roles, youth_only

RULES = {
    "attendance.my_pass": youth_only(),
    "attendance.my_pass_svg": youth_only(),
    "attendance.my_pass_revoke": youth_only(),
    "attendance.pass_manifest": public(),
    "attendance.pass_service_worker": public(),
    # the world's young person is signed up at institution A
    "attendance.pass_card": institution_a(),
    "attendance.pass_card_revoke": institution_a(),
    "attendance.scanner": institution_a(),
    "attendance.scanner_old_url": institution_a(),
    # every staff member's start page at the door lists their own institutions' sessions
    "attendance.door": roles(DENY, anonymous=LOGIN, staff_a=OK, staff_b=OK, inst_admin_a=OK, coordinator=OK,
                             admin=OK),
    "attendance.scanner_service_worker": public(),
    "attendance.scanner_manifest": public(),
    # names on a device: staff only, never coordinators or admins without an institution
    "api.door_roster_view": roles(DENY, anonymous=LOGIN, staff_a=OK, staff_b=OK, inst_admin_a=OK),
    "api.csrf_token_view": roles(OK, anonymous=LOGIN),
    "attendance.youth_search": institution_a(),
    "attendance.rollcall": institution_a(),
    "attendance.headcount": {
        "GET": institution_a(),
        # a POST without band/gender is a 400 for those allowed in
        "POST": roles(DENY, anonymous=LOGIN, staff_a=400, inst_admin_a=400, coordinator=400, admin=400),
    },
    "attendance.conflict_resolve": {
        "params": lambda w: {"conflict_id": 0},
        # allowed staff reach the view and get a 404 for a conflict that does not exist
        **roles(DENY, anonymous=LOGIN),
    },
    "api.session_checkin": {
        # allowed staff get a 400 for the empty form body
        **roles(DENY, anonymous=LOGIN, staff_a=400, inst_admin_a=400, coordinator=400, admin=400),
    },
    "api.checkin_batch": roles(DENY, anonymous=LOGIN, staff_a=400, staff_b=400, inst_admin_a=400,
                               coordinator=400, admin=400),
}
