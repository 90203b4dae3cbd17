"""Access rules for the mail domain: the outbox, and sending a given-up message again."""
from . import admin_only


def _failed_message(w) -> dict:
    """A message that was given up."""
    from youthclub.db_types import utcnow
    from youthclub.extensions import db
    from youthclub.mail.models import OutboxMessage

    message = OutboxMessage(to_address="ung.matrix@example.org", subject="Hej", body_text="tekst", attempts=8,
                            failed_at=utcnow(), last_error="refused")
    db.session.add(message)
    db.session.commit()
    return {"message_id": message.id}


RULES = {
    "mail.outbox": admin_only(),
    "mail.retry": {**admin_only(), "params": _failed_message},
}
