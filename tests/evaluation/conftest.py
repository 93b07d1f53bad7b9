from tests.kb.conftest import _calls_fixed_now, fixed_now  # noqa: F401  (the services' frozen clock)
