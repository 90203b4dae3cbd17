from tests.security.conftest import limited_app, route_url  # noqa: F401  (fixtures and helpers shared with the security tests)
