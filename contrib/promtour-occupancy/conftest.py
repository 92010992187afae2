# The occupancy plugin's tests use promtour's harness. From promtour's checkout the root
# conftest.py enables promtour.testing; run here on its own, pyproject's `-p` does.
import promtour_occupancy
import pytest


@pytest.fixture
def promtour_plugins() -> list[object]:
    return [promtour_occupancy]
