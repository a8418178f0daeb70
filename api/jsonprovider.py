"""JSON with exact money: Decimals are written as JSON numbers with their own digits (10.00).

Answers are written by orjson (a Decimal as a Fragment of its own digits, a datetime as ISO 8601
UTC with a Z); a caller that passes options of its own (a template's tojson) gets simplejson,
which takes them. Requests are read by simplejson, whose numbers become Decimal, so money never
passes through a float."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import simplejson
from flask.json.provider import JSONProvider


def isoformat_utc(value: datetime) -> str:
    """ISO 8601 in UTC with a Z; naive datetimes (SQLite) are UTC by construction."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _default(value: Any):
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    if isinstance(value, datetime):
        return isoformat_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# Datetimes go through _default (UTC, Z); keys that are str subclasses (the StrEnums of features and
# limits) or numbers are written as simplejson writes them.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class DecimalJSONProvider(JSONProvider):
    mimetype = "application/json"

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if not kwargs:
            return orjson.dumps(obj, default=_default, option=_OPTIONS).decode()
        kwargs.setdefault("default", _default)
        kwargs.setdefault("use_decimal", True)
        kwargs.setdefault("ensure_ascii", False)
        return simplejson.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        # Numbers in requests become Decimal, so money never passes through a float.
        kwargs.setdefault("use_decimal", True)
        return simplejson.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any):
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj), mimetype=self.mimetype)
