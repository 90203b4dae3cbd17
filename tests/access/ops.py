from . import public

RULES = {
    # load balancers probe without a login
    "ops.healthz": public(),
    "ops.readyz": public(),
}
