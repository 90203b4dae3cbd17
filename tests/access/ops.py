from . import DENY, public, roles

RULES = {
    # load balancers probe without a login
    "ops.healthz": public(),
    "ops.readyz": public(),
    # for a scraper's bearer token only, never a login; without METRICS_TOKEN it does not exist (404)
    "ops.metrics": roles(DENY),
}
