"""i18n fixtures: the security suite's two-tenant world with work for today, and logged-in clients."""
from tests.security.conftest import _fast_password_hashing, clients, tenants  # noqa: F401
