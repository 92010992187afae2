pytest_plugins = ["promtour.testing"]
