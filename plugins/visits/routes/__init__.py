"""The visits plugin's pages: booking (public), the leader's private page with the live
view, broadcast and class report, the pupils' join link and message feed, and the
enterprise's day sheet with its exports."""

from __future__ import annotations

from .booking import book, book_page
from .leader import broadcast, cancel, class_report, erase_contact, leader_live, leader_page
from .pupils import join_page, messages
from .staff import day_sheet, enterprise_report, export_csv, export_ics, staff_action

__all__ = ["ROUTES"]

ROUTES = [
    book_page,
    book,
    leader_page,
    leader_live,
    broadcast,
    cancel,
    erase_contact,
    class_report,
    join_page,
    messages,
    day_sheet,
    staff_action,
    export_csv,
    export_ics,
    enterprise_report,
]
