"""The mail jobs: send committed messages (with retries and backoff) and sweep up what is due."""
from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name=services.DELIVER_TASK, bind=True, max_retries=None)
def deliver(self, ids) -> int:
    """Send these outbox messages; a failed one is tried again after its backoff, up to MAIL_MAX_ATTEMPTS."""
    sent, retries = services.deliver(ids)
    if retries and not self.request.is_eager:
        # in-process (no worker), a retry would block the caller: the sweep tries again instead
        raise self.retry(args=(sorted(retries),), countdown=max(retries.values()))
    return sent


@shared_task(name="youthclub.mail.deliver_due")
def deliver_due() -> int:
    """Every minute: send what is due (a retry whose job was lost, a claim whose worker died, mail enqueued while Redis was away)."""
    return services.deliver_due()
