"""The auth server: POST /auth/token (password and client_credentials grants) and the JWKS."""
from __future__ import annotations

from typing import Literal

from flask import request
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field, ValidationError

from api.schemas import problem_responses
from core.auth import services
from core.auth.tokens import jwks
from core.errors import ValidationFailed
from core.validation import RequestModel, validation_failed
from web.ratelimit import check_token_requests

bp = APIBlueprint("auth", __name__, abp_tags=[Tag(name="Auth")])


class PasswordGrant(RequestModel):
    """A user's sign-in (a super admin or a store admin)."""

    grant_type: Literal["password"]
    username: str = Field(min_length=1, max_length=254, description="The user's e-mail address")
    password: str = Field(min_length=1, max_length=1024)


class ClientCredentialsGrant(RequestModel):
    """An API client's credentials, as issued by POST /superadmin/tenants/{slug}/api-clients; they
    may be sent with HTTP Basic instead (client_id as the user name, client_secret as the password)."""

    grant_type: Literal["client_credentials"]
    client_id: str = Field(min_length=1, max_length=100)
    client_secret: str = Field(min_length=1, max_length=200)


def _grant_schema() -> dict:
    """The token request's body: one of the two grants, told apart by grant_type."""
    return {"oneOf": [PasswordGrant.model_json_schema(), ClientCredentialsGrant.model_json_schema()]}


class TokenResponse(BaseModel):
    """An OAuth2 token answer (core.auth.tokens.issue_access_token)."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds until the token expires")


class JsonWebKey(BaseModel):
    """A public RSA key (RFC 7517) that verifies Storefleet's RS256 tokens."""

    kty: str
    key_ops: list[str]
    n: str
    e: str
    kid: str
    use: str
    alg: str


class JwksResponse(BaseModel):
    keys: list[JsonWebKey]


def _grant_body() -> dict:
    if request.mimetype == "application/x-www-form-urlencoded":
        return request.form.to_dict()
    return request.get_json(silent=True) or {}


def _parse_grant(model: type[BaseModel], body: dict):
    """The grant of the request's body; a missing or malformed field is a 400 ProblemDetails."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise validation_failed(exc) from exc


def _client_credentials_from_basic(body: dict) -> dict:
    """OAuth2 clients may send their credentials with HTTP Basic instead of the body."""
    auth = request.authorization
    if auth is not None and auth.type == "basic" and "client_id" not in body:
        return {**body, "client_id": auth.username, "client_secret": auth.password}
    return body


@bp.post("/auth/token", responses={200: TokenResponse, **problem_responses(400, 401, 415, 429)},
         security=[{}, {"basic": []}],
         openapi_extensions={"requestBody": {"required": True, "content": {
             "application/x-www-form-urlencoded": {"schema": _grant_schema()},
             "application/json": {"schema": _grant_schema()}}}})
def token():
    """Exchange a password (users) or client credentials (API clients) for an RS256 access token.
    Requests from one address are limited per minute, and failed attempts slow the next ones
    down (429 with Retry-After)."""
    address = request.remote_addr
    check_token_requests(address)
    body = _grant_body()
    grant_type = body.get("grant_type")
    if grant_type == "password":
        grant = _parse_grant(PasswordGrant, body)
        issued = services.password_grant(grant.username, grant.password, address)
    elif grant_type == "client_credentials":
        grant = _parse_grant(ClientCredentialsGrant, _client_credentials_from_basic(body))
        issued = services.client_credentials_grant(grant.client_id, grant.client_secret, address)
    else:
        raise ValidationFailed.field("grant_type", "grant_type must be 'password' or 'client_credentials'.")
    return TokenResponse.model_validate(issued)


@bp.get("/.well-known/jwks.json", responses={200: JwksResponse})
def jwks_document():
    """The public keys that verify Storefleet tokens."""
    return JwksResponse.model_validate(jwks())
