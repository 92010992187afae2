"""The routes plugin's pages and API, mounted under ``/p/routes/``.

Visitors: ``r/<route>`` (the route and the visitor's passport), ``r/<route>/code``
(show a passport code), ``restore`` (a passport code restores the passport).
Enterprise admins: ``e/<enterprise>`` (proposals: accept, decline, leave).
Operators: ``o/<operator>/routes`` (create, list, propose a tour), ``o/<operator>/
dashboard`` (+ ``.csv``), ``operator/login``. Staff: ``r/<route>/redeem``.
"""

from __future__ import annotations

from .enterprise import decide, enterprise_page
from .operator import (
    create_route,
    dashboard_csv,
    dashboard_page,
    list_routes,
    login,
    login_form,
    propose,
)
from .staff import redeem, redeem_form
from .visitor import restore, restore_form, route_page, show_code

__all__ = ["ROUTES"]

ROUTES = [
    route_page,
    show_code,
    restore_form,
    restore,
    redeem_form,
    redeem,
    enterprise_page,
    decide,
    list_routes,
    create_route,
    propose,
    dashboard_page,
    dashboard_csv,
    login_form,
    login,
]
