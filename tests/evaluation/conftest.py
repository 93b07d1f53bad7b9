from tests.kb.conftest import fixed_now  # noqa: F401  (the services' frozen clock)
