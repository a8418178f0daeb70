"""The one way an API answer leaves a handler: as an instance of the model its operation declares.

Every operation declares its answers in `responses={status: Model, ...}`; those models make the
OpenAPI document. flask-openapi3 hands what a handler returned, with that declaration, to the
app's `validate_response_callback` (storefleet.app sets it to `send_declared_answer`, with
`validate_response=True`), so the check runs after every API handler that returns normally
(errors are raised, and answered as problem+json by web.errors). It requires that

- the status is one the operation declares;
- a status declared with a model gets an instance of exactly that class (not a dict, not a
  subclass, not another model), or a `RenderedAnswer` of that class (a document rendered
  earlier, e.g. stored by an idempotency record);
- a status declared without a model (204) gets an empty body.

and then serializes the model: `model_dump(mode="python", by_alias=True)` keeps Decimals and
datetimes for the app's JSON provider (api.jsonprovider), so money keeps its digits (10.00) and
datetimes are ISO 8601 UTC with a Z. Anything else raises AnswerMismatch: a bug of the handler,
never of the client, so tests see the exception itself and clients a 500 problem (api.register_api).
"""
from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Mapping

from flask import Response, current_app
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import Headers

JSON = "application/json"
# What a handler may return besides the answer: (answer, status), (answer, headers),
# (answer, status, headers), as Flask reads a view's return value.
HEADER_TYPES = (Headers, dict, list)


class AnswerMismatch(Exception):
    """A handler answered otherwise than its operation declares."""


@dataclass(frozen=True)
class RenderedAnswer:
    """A JSON document that `render_answer` made from an instance of `model` earlier, sent again
    byte for byte (an idempotent request's replay). The check validates it against `model`."""

    model: type[BaseModel]
    body: str


def render_answer(answer: BaseModel) -> str:
    """The JSON document of an answer model, exactly as the API sends it: by alias, Decimals and
    datetimes written by the app's JSON provider."""
    return current_app.json.dumps(answer.model_dump(mode="python", by_alias=True))


def _status_code(status: Any) -> int:
    if isinstance(status, HTTPStatus):
        return status.value
    return int(status)


def _unpack(returned: Any) -> tuple[Any, int, Any]:
    """(answer, status, headers) of a view's return value, in Flask's tuple forms."""
    if not isinstance(returned, tuple):
        return returned, 200, None
    if len(returned) == 3:
        answer, status, headers = returned
        return answer, _status_code(status), headers
    if len(returned) == 2:
        answer, second = returned
        if isinstance(second, HEADER_TYPES):
            return answer, 200, second
        return answer, _status_code(second), None
    raise AnswerMismatch(f"A handler returned a tuple of {len(returned)} items; expected (answer, status[, headers]).")


def _declared(responses: Mapping[Any, Any], status: int) -> tuple[bool, type[BaseModel] | None]:
    """(whether `status` is declared, its model or None)."""
    for key, model in responses.items():
        if _status_code(key) == status:
            return True, model
    return False, None


def _describe(answer: Any) -> str:
    return f"an instance of {type(answer).__module__}.{type(answer).__qualname__}"


def declared_answer_body(answer: Any, status: int, responses: Mapping[Any, Any]) -> str:
    """The body to send for `answer` with `status`, after checking it is what `responses`
    declares for that status (see the module's doc); AnswerMismatch otherwise."""
    found, model = _declared(responses, status)
    if not found:
        raise AnswerMismatch(f"The handler answered status {status}, which its operation does not declare "
                             f"(declared: {sorted(_status_code(key) for key in responses)}).")
    if model is None:
        if answer in ("", b"", None):
            return ""
        raise AnswerMismatch(f"Status {status} is declared without a body, but the handler returned "
                             f"{_describe(answer)}.")
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise AnswerMismatch(f"Status {status} must be declared with a pydantic model, not {model!r}.")
    if isinstance(answer, RenderedAnswer):
        if answer.model is not model:
            raise AnswerMismatch(f"Status {status} declares {model.__qualname__}, but the handler returned a document "
                                 f"rendered from {answer.model.__qualname__}.")
        try:
            model.model_validate_json(answer.body)
        except ValidationError as exc:
            raise AnswerMismatch(f"The rendered {model.__qualname__} document does not fit its model: {exc}") from exc
        return answer.body
    if type(answer) is not model:
        raise AnswerMismatch(f"Status {status} declares {model.__module__}.{model.__qualname__}, but the handler "
                             f"returned {_describe(answer)}.")
    return render_answer(answer)


def send_declared_answer(returned: Any, responses: Mapping[Any, Any]) -> Response:
    """flask-openapi3's validate_response_callback: the response for a handler's return value,
    checked against and serialized through the model declared for its status."""
    answer, status, headers = _unpack(returned)
    body = declared_answer_body(answer, status, responses)
    # An empty body (a status declared without a model, 204) keeps Flask's default type.
    return current_app.response_class(body, status=status, headers=headers, mimetype=JSON if body else None)
