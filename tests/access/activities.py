"""Access rules of the activities domain: a public catalogue, staff manage their own institution's offers."""
from youthclub.i18n import local_today

from . import coordinator_only, institution_a, public


def _pattern(w) -> dict:
    from datetime import time

    from youthclub.activities.services import save_pattern

    today = local_today()
    pattern = save_pattern(w.activity_a, weekdays=[today.weekday()], start_time=time(16), end_time=time(18),
                           starts_on=today)
    return {"pattern_id": pattern.id}


RULES = {
    "activities.catalogue": public(),
    "activities.detail": public(),
    "activities.calendar": public(),
    "activities.institution_activities": institution_a(),
    "activities.activity_new": institution_a(),
    "activities.manage": institution_a(),
    "activities.activity_edit": institution_a(),
    "activities.activity_publish": institution_a(),
    "activities.activity_unpublish": institution_a(),
    "activities.activity_restore": institution_a(),
    "activities.activity_cancel": institution_a(),
    "activities.activity_tags": coordinator_only(),
    "activities.pattern_new": institution_a(),
    "activities.pattern_edit": {**institution_a(), "params": _pattern},
    "activities.session_move": institution_a(),
    "activities.session_cancel": institution_a(),
    "activities.session_restore": institution_a(),
    "activities.today": institution_a(),
    "api.activities": public(),
    "api.activity": public(),
}
