from . import DENY, LOGIN, OK, door_of_institution_a, names_of_institution_a, public, roles, youth_only

RULES = {
    "attendance.my_pass": youth_only(),
    "attendance.my_pass_svg": youth_only(),
    "attendance.my_pass_revoke": youth_only(),
    "attendance.pass_manifest": public(),
    "attendance.pass_service_worker": public(),
    # the world's young person is signed up at institution A
    "attendance.pass_card": names_of_institution_a(),
    "attendance.pass_card_revoke": names_of_institution_a(),
    "attendance.pass_card_with_code": names_of_institution_a(),
    "attendance.scanner": door_of_institution_a(),
    "attendance.scanner_old_url": door_of_institution_a(),
    # the door's start page lists the staff member's own institutions' sessions
    "attendance.door": roles(DENY, anonymous=LOGIN, staff_a=OK, staff_b=OK, inst_admin_a=OK),
    "attendance.scanner_service_worker": public(),
    "attendance.scanner_manifest": public(),
    # names on a device: staff only, never coordinators or admins without an institution
    "api.door_roster_view": roles(DENY, anonymous=LOGIN, staff_a=OK, staff_b=OK, inst_admin_a=OK),
    "api.csrf_token_view": roles(OK, anonymous=LOGIN),
    "attendance.youth_search": door_of_institution_a(),
    "attendance.rollcall": names_of_institution_a(),
    # head counts are anonymous, but one session's cells are small numbers: the institution's staff (and admins,
    # as for the roster) keep them; coordinators see drop-ins only as released figures
    "attendance.headcount": {
        "GET": names_of_institution_a(),
        # a POST without band/gender is a 400 for those allowed in
        "POST": roles(DENY, anonymous=LOGIN, staff_a=400, inst_admin_a=400, admin=400),
    },
    "attendance.conflict_resolve": {
        "params": lambda w: {"conflict_id": 0},
        # allowed staff reach the view and get a 404 for a conflict that does not exist
        **roles(DENY, anonymous=LOGIN),
    },
    "api.session_checkin": {
        # allowed staff get a 400 for the empty form body; a check-in answers with a first name,
        # so coordinators and admins are not at the door
        **roles(DENY, anonymous=LOGIN, staff_a=400, inst_admin_a=400),
    },
    "api.checkin_batch": roles(DENY, anonymous=LOGIN, staff_a=400, staff_b=400, inst_admin_a=400),
}
