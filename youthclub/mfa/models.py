"""A user's second factor: one authenticator app (TOTP) and its one-time recovery codes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import UTCDateTime, utcnow
from ..extensions import Model


class TotpFactor(Model):
    """The authenticator app a user has set up (or is setting up: ``confirmed_at`` is None)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    #: the shared secret (base32), shown once as a QR code and as text while setting up
    secret: Mapped[str] = mapped_column(String(64))
    #: set when the user proved the app works by typing a code; until then it opens nothing
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the last 30-second time step whose code was accepted: a code is never accepted twice
    last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(Model):
    """A one-time code for when the phone is lost; shown once, stored hashed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: sha256 of the code
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
