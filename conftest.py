# promtour's pytest fixtures (a real nats-server, the harness, live servers, Chromium)
# for every test folder: tests/ and the contrib plugins' tests.
pytest_plugins = ["promtour.testing", "promtour.testing.browser"]

# Hypothesis's per-example deadline (200 ms) is a timing check, and speed is measured
# in bench/, not in tests: on a loaded 2-core CI machine one career-model example took
# 303 ms and failed the suite.
from hypothesis import settings  # noqa: E402

settings.register_profile("promtour", deadline=None)
settings.load_profile("promtour")
