"""Free places: one SQL definition that the pages, the API, the catalogue filter and sign_up all use."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import _empty_tables
from tests.factories import build_world, make_activity, make_session, make_youth, sign_up
from youthclub.activities.services import CatalogueFilters, catalogue_page
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.signups.models import SignupStatus
from youthclub.signups.places import confirmed_counts, free_places, free_places_by_activity


def reference_free_places(requires_signup: bool, capacity: int | None, confirmed: int) -> int | None:
    """The rule in plain Python, to check the SQL against."""
    if not requires_signup or capacity is None:
        return None
    return max(capacity - confirmed, 0)


def test_confirmed_counts_count_only_confirmed_signups(world):
    sign_up(make_youth(), world.activity_a, status=SignupStatus.WAITLISTED, position=1)
    empty = make_activity(world.inst_a)
    counts = confirmed_counts([world.activity_a.id, world.activity_b.id, empty.id])
    assert counts == {world.activity_a.id: 1, world.activity_b.id: 1, empty.id: 0}
    assert free_places(world.activity_a) == 19 and free_places(empty) == 20


offers = st.lists(st.tuples(st.booleans(), st.none() | st.integers(1, 4), st.integers(0, 5), st.integers(0, 2)),
                  min_size=1, max_size=5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(offers=offers)
def test_the_sql_the_pages_and_the_catalogue_filter_agree_with_the_rule(app, offers):
    """Whatever the capacity, sign-ups and waitlist, every reader of free places gets the same number."""
    try:
        world = build_world()
        expected, needs_signup = {}, {}
        for requires_signup, capacity, confirmed, cancelled in offers:
            activity = make_activity(world.inst_a, requires_signup=requires_signup, capacity=capacity)
            make_session(activity, local_today() + timedelta(days=1))
            for _ in range(confirmed):
                sign_up(make_youth(), activity)
            for _ in range(cancelled):
                sign_up(make_youth(), activity, status=SignupStatus.CANCELLED)
            needs_signup[activity.id] = requires_signup
            expected[activity.id] = reference_free_places(requires_signup, capacity, confirmed)
        assert free_places_by_activity(expected) == expected
        _pagination, items = catalogue_page(CatalogueFilters(), 1, 100)
        shown = {activity.id: free for activity, _start, free in items if activity.id in expected}
        assert shown == expected
        _pagination, items = catalogue_page(CatalogueFilters(free_places=True), 1, 100)
        filtered = {activity.id for activity, _start, _free in items if activity.id in expected}
        assert filtered == {i for i, free in expected.items() if needs_signup[i] and (free is None or free > 0)}
    finally:
        db.session.rollback()
        _empty_tables()
