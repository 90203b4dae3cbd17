"""Access rules for the mail domain: the outbox."""
from . import admin_only

RULES = {
    "mail.outbox": admin_only(),
}
