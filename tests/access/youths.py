"""Access rules for merging two profiles of one young person."""
from . import DENY, LOGIN, OK, roles


def _two_staff_made_profiles(w):
    from tests.factories import make_youth
    from youthclub.extensions import db

    keep, remove = make_youth(first_name="Zara"), make_youth(first_name="Zara")
    keep.registered_by_institution_id = remove.registered_by_institution_id = w.inst_a.id
    db.session.commit()
    return {"youth_id": keep.id, "other_id": remove.id}


RULES = {
    # staff of the institution that registered both, and admins; never coordinators (names)
    "accounts.youth_merge": {
        **roles(DENY, anonymous=LOGIN, staff_a=OK, inst_admin_a=OK, admin=OK),
        "params": _two_staff_made_profiles,
    },
}
