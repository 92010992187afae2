# promtour's pytest fixtures (a real nats-server, the harness, live servers, Chromium)
# for every test folder: tests/ and the contrib plugins' tests.
pytest_plugins = ["promtour.testing", "promtour.testing.browser"]
