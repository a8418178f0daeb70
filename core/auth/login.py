"""Flask-Login wiring for the portals: a session ends when the user's password changes, when the
user signs out (on every copy of it: User.get_id), and after SESSION_IDLE_MINUTES without a request."""
from __future__ import annotations

import time

from flask import current_app, session

from core.auth.models import User
from core.extensions import db, login_manager

# A session's last request, in its cookie; written again at most this often (each write is a
# new cookie sent back).
_SEEN = "_seen"
SEEN_EVERY_SECONDS = 60


@login_manager.user_loader
def load_user(login_id: str) -> User | None:
    if not _fresh():
        return None
    user_id, _, _digest = login_id.partition(":")
    user = db.session.get(User, user_id)
    # The id carries a digest of the password hash and session version: a changed password or a
    # sign-out ends older sessions.
    if user is None or user.get_id() != login_id or not user.is_active:
        return None
    return user


def _fresh() -> bool:
    """Whether the session was used within SESSION_IDLE_MINUTES; a fresh one is marked used now."""
    now = int(time.time())
    seen = session.get(_SEEN)
    if seen is not None and now - seen > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        session.clear()
        return False
    if seen is None or now - seen >= SEEN_EVERY_SECONDS:
        session[_SEEN] = now
    return True
