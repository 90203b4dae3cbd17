"""Navigation and start pages, declared by each domain next to its views.

A domain calls ``nav_item(...)`` and ``start_page(...)`` at import time; the base
template and the home page read the registries, so no domain edits another's code.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string
    visible: Callable[[object], bool]
    order: int = 50
    #: endpoint values computed from the user, e.g. their institution
    values: Callable[[object], dict] = field(default=lambda user: {})


@dataclass(frozen=True)
class StartPage:
    endpoint: str
    applies: Callable[[object], bool]
    #: the highest priority that applies wins
    priority: int
    values: Callable[[object], dict] = field(default=lambda user: {})


NAV: list[NavItem] = []
START_PAGES: list[StartPage] = []


def nav_item(endpoint, label, visible, order=50, values=None) -> None:
    NAV.append(NavItem(endpoint, label, visible, order, values or (lambda user: {})))
    NAV.sort(key=lambda item: item.order)


def start_page(endpoint, applies, priority, values=None) -> None:
    START_PAGES.append(StartPage(endpoint, applies, priority, values or (lambda user: {})))
    START_PAGES.sort(key=lambda page: -page.priority)


def nav_links() -> list[tuple[str, object, bool]]:
    """(url, label, is_current) for every item the current user may see."""
    from flask import request

    links = []
    for item in NAV:
        if item.visible(current_user):
            values = item.values(current_user)
            if values is None:
                continue
            url = url_for(item.endpoint, **values)
            links.append((url, item.label, request.endpoint == item.endpoint))
    return links


def start_url(user) -> str | None:
    for page in START_PAGES:
        if page.applies(user):
            values = page.values(user)
            if values is not None:
                return url_for(page.endpoint, **values)
    return None


#: buttons on an institution's page: (endpoint taking institution_id, label, order, shown(user, institution_id))
#: (endpoint, label, order, shown(user, institution_id) or None)
INSTITUTION_LINKS: list[tuple[str, object, int, Callable[[object, int], bool] | None]] = []


def institution_link(endpoint, label, order=50, shown=None) -> None:
    """A button on an institution's page; ``shown(user, institution_id)`` hides it from those it would refuse."""
    INSTITUTION_LINKS.append((endpoint, label, order, shown))
    INSTITUTION_LINKS.sort(key=lambda link: link[2])


def institution_links(institution) -> list[tuple[str, object]]:
    return [(e, label) for e, label, _order, shown in INSTITUTION_LINKS
            if shown is None or shown(current_user, institution.id)]


def public_url(endpoint: str, **values) -> str:
    """An absolute link (mail, calendar feeds, the API), built on PUBLIC_BASE_URL and never on the request's Host header."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def public_host() -> str:
    """The host name of PUBLIC_BASE_URL (calendar entries' UIDs)."""
    return urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "youthclub"


def page_url(page: int) -> str:
    """The current page's URL with another ``page`` query value (for pagination links)."""
    from flask import request

    args: dict[str, Any] = {**request.args.to_dict(flat=False), "page": [str(page)]}
    return url_for(request.endpoint or "", **(request.view_args or {}), **args)


def init_app(app) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.globals["slot_templates"] = slot_templates

    @app.context_processor
    def _nav():
        return {
            "nav_links": nav_links,
            "institution_links": institution_links,
        }


#: named places in shared pages where other domains add a partial template
SLOTS: dict[str, list[tuple[int, str]]] = {}


def slot(name: str, template: str, order: int = 50) -> None:
    """Have ``template`` included wherever a page renders the slot ``name``.

    Slots in use: "account" (own account page), "activity_detail" (the public detail page,
    with ``activity``), "activity_manage" (beside the sign-up count on an offer's staff page,
    with ``activity``), "session_actions" (staff actions beside a session, with ``session``),
    "institution" (an institution's page, with ``institution``), "youth" (a young person's
    page, with ``youth``).
    """
    entries = SLOTS.setdefault(name, [])
    if template not in [t for _, t in entries]:
        entries.append((order, template))
        entries.sort()


def slot_templates(name: str) -> list[str]:
    return [template for _, template in SLOTS.get(name, [])]
