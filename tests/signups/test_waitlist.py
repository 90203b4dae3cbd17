"""The waitlist is first come, first served: no sequence of actions lets a newcomer overtake it."""
from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from tests.conftest import _empty_tables
from tests.factories import build_world, make_activity, make_youth
from tests.factories import sign_up as fx_sign_up
from youthclub.accounts.merge import MergeError, merge_youths
from youthclub.activities import services as activities
from youthclub.activities.models import Activity, ActivityStatus
from youthclub.extensions import db
from youthclub.privacy.services import anonymise_youth
from youthclub.signups import services
from youthclub.signups.models import Signup, SignupStatus
from youthclub.signups.places import free_places, has_free_place


def _youths(n):
    return [make_youth(with_login=True, email=f"fifo{i}-{id(object())}@example.org") for i in range(n)]


@pytest.fixture
def small(world):
    """A published activity with 2 places and a waitlist."""
    return activities.publish_activity(make_activity(world.inst_a, title="Klatring", capacity=2))


def test_a_newcomer_cannot_overtake_the_waitlist_through_unpublish_and_publish(world, small):
    """Unpublish, cancel a confirmed place, publish again: number 1 of the waitlist gets the place."""
    a, b, waiting, newcomer = _youths(4)
    first = services.sign_up(a, small)
    services.sign_up(b, small)
    number_one = services.sign_up(waiting, small)
    assert number_one.status == SignupStatus.WAITLISTED

    activities.unpublish_activity(small)
    services.cancel_signup(first, by_user=a.user)
    activities.publish_activity(small)

    assert number_one.status == SignupStatus.CONFIRMED
    late = services.sign_up(newcomer, small)
    assert late.status == SignupStatus.WAITLISTED and late.position == 1


def test_sign_up_never_confirms_a_newcomer_while_someone_waits(world, small):
    """Even if a free place and a waitlist met (data from before this rule), the waiting person comes first."""
    a, waiting, newcomer = _youths(3)
    fx_sign_up(a, small)
    number_one = fx_sign_up(waiting, small, status=SignupStatus.WAITLISTED, position=1)
    late = services.sign_up(newcomer, small)
    assert number_one.status == SignupStatus.CONFIRMED
    assert late.status == SignupStatus.WAITLISTED and late.position == 1


def test_un_cancelling_an_offer_fills_the_places_freed_meanwhile(world, small):
    a, b, waiting = _youths(3)
    first = services.sign_up(a, small)
    services.sign_up(b, small)
    number_one = services.sign_up(waiting, small)
    activities.cancel_activity(small, "Træneren er syg")
    services.cancel_signup(first, by_user=a.user)
    assert number_one.status == SignupStatus.WAITLISTED
    activities.restore_activity(small)
    assert small.status == ActivityStatus.PUBLISHED and small.cancel_reason is None
    assert number_one.status == SignupStatus.CONFIRMED


def test_a_closed_account_gives_its_place_to_number_one(world, small):
    a, b, waiting = _youths(3)
    services.sign_up(a, small)
    services.sign_up(b, small)
    number_one = services.sign_up(waiting, small)
    anonymise_youth(a, reason="closed")
    assert number_one.status == SignupStatus.CONFIRMED


def test_staff_undo_a_cancellation_and_cannot_set_fewer_places_than_are_taken(client, world):
    """Over HTTP: "Fortryd aflysningen" on the manage page, and a capacity below the confirmed places is
    refused next to its field, in Danish."""
    offer = activities.publish_activity(make_activity(world.inst_a, title="Svømning", capacity=3))
    for youth in _youths(3):
        services.sign_up(youth, offer)
    client.login_as(world.staff_a)
    assert client.post_form(f"/activities/{offer.id}/cancel", {"reason": "Hallen er lukket"}).status_code == 302
    page = client.get(f"/activities/{offer.id}/manage").get_data(as_text=True)
    assert "Fortryd aflysningen" in page
    assert client.post_form(f"/activities/{offer.id}/restore").status_code == 302
    db.session.expire_all()
    assert db.session.get(Activity, offer.id).status == ActivityStatus.PUBLISHED
    form = {"title": "Svømning", "description": "", "category": "sport", "min_age": "10", "max_age": "24",
            "capacity": "2", "district_id": str(world.district_a.id), "requires_signup": "y", "waitlist_enabled": "y"}
    response = client.post_form(f"/activities/{offer.id}/edit", form)
    assert response.status_code == 200
    assert "3 har allerede en plads" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Activity, offer.id).capacity == 3


# --- the invariant, over random sequences ---------------------------------------------------

N_PEOPLE = 6


class WaitlistMachine(RuleBasedStateMachine):
    """Random sequences of everything that changes places; the waitlist must stay fair after every step."""

    def __init__(self):
        super().__init__()
        self.world = build_world()
        self.activity = activities.publish_activity(make_activity(self.world.inst_a, title="Kø", capacity=2))
        # the last two have no login of their own (registered by the club): those can be merged away
        self.people = [make_youth(with_login=i < N_PEOPLE - 2, email=f"machine{i}-{id(self)}@example.org")
                       for i in range(N_PEOPLE)]
        for youth in self.people:
            youth.registered_by_institution_id = self.world.inst_a.id
        self.closed: set[int] = set()
        self.before = self._snapshot()

    def teardown(self):
        db.session.rollback()
        _empty_tables()

    @initialize(n=st.integers(0, N_PEOPLE))
    def queue_up(self, n):
        """Start from a full offer with a waitlist, where overtaking would show."""
        for youth in self.people[:n]:
            services.sign_up(youth, self.activity)
        self.before = self._snapshot()

    # -- what people and staff do ------------------------------------------------------------
    @rule(i=st.integers(0, N_PEOPLE - 1))
    def sign_up(self, i):
        youth = self.people[i]
        if youth.id in self.closed:
            return
        with contextlib.suppress(services.SignupError):
            services.sign_up(youth, self.activity)

    @rule(i=st.integers(0, N_PEOPLE - 1))
    def cancel(self, i):
        signup = services.active_signup(self.people[i].id, self.activity.id)
        if signup is not None:
            services.cancel_signup(signup, by_user=None)

    @rule(capacity=st.none() | st.integers(1, 5))
    def change_capacity(self, capacity):
        try:
            activities.update_activity(self.activity, capacity=capacity)
        except activities.ActivityError as err:
            assert err.code in ("capacity_below_confirmed",)

    @rule()
    def publish(self):
        try:
            activities.publish_activity(self.activity)
        except activities.ActivityError:
            assert self.activity.status == ActivityStatus.CANCELLED

    @rule()
    def unpublish(self):
        try:
            activities.unpublish_activity(self.activity)
        except activities.ActivityError:
            assert self.activity.status == ActivityStatus.CANCELLED

    @rule()
    def cancel_activity(self):
        try:
            activities.cancel_activity(self.activity, "Aflyst")
        except activities.ActivityError:
            assert self.activity.status == ActivityStatus.CANCELLED

    @rule()
    def restore_activity(self):
        try:
            activities.restore_activity(self.activity)
        except activities.ActivityError:
            assert self.activity.status != ActivityStatus.CANCELLED

    @rule(i=st.integers(0, N_PEOPLE - 1))
    def close_account(self, i):
        youth = self.people[i]
        anonymise_youth(youth, reason="closed")
        self.closed.add(youth.id)

    @rule(on=st.booleans(), capacity=st.none() | st.integers(1, 5))
    def ask_for_sign_ups_or_not(self, on, capacity):
        """Staff switch "sign-up needed" off (no limit: everyone waiting gets in) or on again."""
        try:
            activities.update_activity(self.activity, requires_signup=on, capacity=capacity)
        except activities.ActivityError as err:
            assert err.code in ("capacity_below_confirmed",)

    @rule(on=st.booleans())
    def waitlist_on_or_off(self, on):
        activities.update_activity(self.activity, waitlist_enabled=on)

    @rule(i=st.integers(0, N_PEOPLE - 1), j=st.integers(0, N_PEOPLE - 1))
    def merge(self, i, j):
        """Staff merge two profiles of one young person: the kept one stands where the earlier stood."""
        keep, remove = self.people[i], self.people[j]
        if keep.id == remove.id or {keep.id, remove.id} & self.closed:
            return
        try:
            with db.session.begin_nested():
                merge_youths(keep, remove, self.world.staff_a)
        except MergeError as err:
            assert err.code == "both_have_login"
            return
        # one person from now on: the removed profile's place (or place in line) is the kept one's
        was_confirmed, was_waiting, positions = self.before
        confirmed = {keep.id if y == remove.id else y for y in was_confirmed}
        waiting = list(dict.fromkeys(keep.id if y == remove.id else y for y in was_waiting))
        self.before = (confirmed, [y for y in waiting if y not in confirmed], positions)
        self.closed.add(remove.id)
        self.people[j] = db.session.get(type(keep), keep.id)
        event("merged")

    # -- what must hold after every step -----------------------------------------------------
    def _snapshot(self):
        rows = db.session.scalars(select(Signup).where(Signup.activity_id == self.activity.id)
                                  .execution_options(populate_existing=True)).all()
        confirmed = {s.youth_id for s in rows if s.status == SignupStatus.CONFIRMED}
        waiting = sorted((s for s in rows if s.status == SignupStatus.WAITLISTED), key=lambda s: s.position)
        return confirmed, [s.youth_id for s in waiting], [s.position for s in waiting]

    @invariant()
    def the_waitlist_is_fair(self):
        db.session.flush()
        activity = db.session.get(Activity, self.activity.id, populate_existing=True)
        confirmed, waiting, positions = self._snapshot()
        was_confirmed, was_waiting, _ = self.before
        # confirmed ≤ capacity
        if activity.capacity is not None:
            assert len(confirmed) <= activity.capacity
        # positions 1..n without gaps
        assert positions == list(range(1, len(waiting) + 1))
        # those still waiting keep their order, and newcomers join at the end
        stayed = [y for y in was_waiting if y in waiting]
        assert waiting[:len(stayed)] == stayed
        # nobody behind someone still waiting (nor a newcomer) got a place in this step
        newly = confirmed - was_confirmed
        for person in newly:
            if person in was_waiting:
                ahead = was_waiting[:was_waiting.index(person)]
                assert not set(ahead) & set(waiting), "promoted past someone who still waits"
            else:
                assert not stayed, "a newcomer got a place while someone waited"
        # a published offer with a free place has nobody waiting
        free = free_places(activity)
        if activity.status == ActivityStatus.PUBLISHED and has_free_place(free):
            assert not waiting
        self.before = (confirmed, waiting, positions)


def test_no_sequence_of_actions_lets_anyone_jump_the_waitlist(app, request_context):
    run_state_machine_as_test(WaitlistMachine, settings=settings(
        max_examples=40, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
