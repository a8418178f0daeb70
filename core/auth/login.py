"""Flask-Login wiring for the portals: sessions end when the user's password changes."""
from __future__ import annotations

from core.auth.models import User
from core.extensions import db, login_manager


@login_manager.user_loader
def load_user(login_id: str) -> User | None:
    user_id, _, _digest = login_id.partition(":")
    user = db.session.get(User, user_id)
    # The id carries a digest of the password hash: a changed password ends older sessions.
    if user is None or user.get_id() != login_id or not user.is_active:
        return None
    return user
