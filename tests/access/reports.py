from . import DENY, LOGIN, OK, coordinator_only, roles

STAFF_OR_COORDINATOR = roles(OK, anonymous=LOGIN, youth=DENY)

RULES = {
    "reports.dashboard": STAFF_OR_COORDINATOR,
    "reports.export_xlsx": STAFF_OR_COORDINATOR,
    "reports.export_csv": STAFF_OR_COORDINATOR,
    "reports.action_plan": coordinator_only(),
    "reports.offer_gaps_page": coordinator_only(),
    "reports.offer_gaps_json": coordinator_only(),
    "api.stats": {
        **STAFF_OR_COORDINATOR,
        "params": lambda w: {},
    },
    "programme.plans_index": coordinator_only(),
    "programme.plan_new": coordinator_only(),
    "programme.plan": coordinator_only(),
    "programme.initiative_new": coordinator_only(),
    "programme.initiative_edit": coordinator_only(),
    "programme.initiative_delete": coordinator_only(),
}
