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
from core.validation import validation_failed

bp = APIBlueprint("auth", __name__, abp_tags=[Tag(name="Auth")])


class PasswordGrant(BaseModel):
    grant_type: Literal["password"]
    username: str = Field(min_length=1)
    password: str = Field(min_length=1)


class ClientCredentialsGrant(BaseModel):
    grant_type: Literal["client_credentials"]
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


def _grant_body() -> dict:
    if request.mimetype == "application/x-www-form-urlencoded":
        return request.form.to_dict()
    return request.get_json(silent=True) or {}


def _client_credentials_from_basic(body: dict) -> dict:
    """OAuth2 clients may send their credentials with HTTP Basic instead of the body."""
    auth = request.authorization
    if auth is not None and auth.type == "basic" and "client_id" not in body:
        return {**body, "client_id": auth.username, "client_secret": auth.password}
    return body


@bp.post("/auth/token", responses={200: TokenResponse, **problem_responses(400, 401, 415)},
         openapi_extensions={"requestBody": {"content": {
             "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
             "application/json": {"schema": {"type": "object"}}}}})
def token():
    """Exchange a password (users) or client credentials (API clients) for an RS256 access token."""
    body = _grant_body()
    grant_type = body.get("grant_type")
    try:
        if grant_type == "password":
            grant = PasswordGrant.model_validate(body)
            return services.password_grant(grant.username, grant.password)
        if grant_type == "client_credentials":
            grant = ClientCredentialsGrant.model_validate(_client_credentials_from_basic(body))
            return services.client_credentials_grant(grant.client_id, grant.client_secret)
    except ValidationError as exc:
        raise validation_failed(exc) from exc
    raise ValidationFailed.field("grant_type", "grant_type must be 'password' or 'client_credentials'.")


@bp.get("/.well-known/jwks.json")
def jwks_document():
    """The public keys that verify Storefleet tokens."""
    return jwks()
