"""Domain events that other domains react to, without importing each other.

Senders and receivers run in the same request and transaction (blinker signals are
synchronous), so a receiver's writes are committed or rolled back with the sender's.
"""
from blinker import Namespace

_signals = Namespace()

#: sender: the Session; kwargs: change="cancelled" | "moved" | "restored"
session_changed = _signals.signal("session-changed")
#: sender: the Activity; kwargs: old_capacity, new_capacity (sent after the waitlist was filled)
capacity_changed = _signals.signal("capacity-changed")
#: sender: the Activity; the activity as a whole was cancelled
activity_cancelled = _signals.signal("activity-cancelled")
#: sender: the Signup that left the waitlist for a place
signup_promoted = _signals.signal("signup-promoted")
#: sender: the YouthProfile whose pass token was replaced
pass_revoked = _signals.signal("pass-revoked")
