"""JWTs: RS256 access tokens and tenant-confirm tokens, signed with a key that has a `kid`.

Verification pins the algorithm to RS256, looks the key up by `kid`, and requires `exp`, `iss`,
`aud`, `sub` and `jti`. Confirm tokens carry `purpose: tenant-confirm` and their own audience, so
neither kind of token is ever accepted as the other.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app

from core.caching import ProcessCache
from core.errors import Unauthorized

ALGORITHM = "RS256"
CONFIRM_PURPOSE = "tenant-confirm"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    public_key: rsa.RSAPublicKey = field(repr=False)

    @classmethod
    def from_pem(cls, pem: bytes) -> "SigningKey":
        private_key = serialization.load_pem_private_key(pem, password=None)
        public_key = private_key.public_key()
        der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        kid = base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:12]).decode().rstrip("=")
        return cls(kid=kid, private_key=private_key, public_key=public_key)

    def jwk(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.public_key))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}


def load_or_create_private_key(data_dir: Path) -> bytes:
    """The PEM in DATA_DIR/jwt_private.pem, created once (atomically, so web and worker agree)."""
    path = data_dir / "jwt_private.pem"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process won the race; use its key
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    return path.read_bytes()


def signing_key() -> SigningKey:
    app = current_app
    key = app.extensions.get("storefleet.signing_key")
    if key is None:
        pem = app.config.get("JWT_PRIVATE_KEY")
        pem_bytes = pem.encode() if pem else load_or_create_private_key(Path(app.config["DATA_DIR"]))
        key = app.extensions["storefleet.signing_key"] = SigningKey.from_pem(pem_bytes)
    return key


def jwks() -> dict:
    return {"keys": [signing_key().jwk()]}


def _encode(claims: dict, ttl_seconds: int) -> tuple[str, dict]:
    key = signing_key()
    now = datetime.now(timezone.utc)
    payload = {
        "iss": current_app.config["JWT_ISSUER"],
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=ttl_seconds),
        "jti": uuid.uuid4().hex,
        **claims,
    }
    token = jwt.encode(payload, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
    return token, payload


def _decode(token: str, audience: str) -> dict:
    key = signing_key()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("kid") != key.kid:
            raise Unauthorized("The token was not signed by a key of this server.")
        return jwt.decode(
            token,
            key.public_key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=current_app.config["JWT_ISSUER"],
            options={"require": ["exp", "iss", "aud", "sub", "jti"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired.") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"The token is invalid: {exc}.") from exc


def issue_access_token(*, subject: str, tenant: str | None, roles: list[str],
                       customer_id: str | None = None) -> dict:
    """An OAuth2 token answer: {access_token, token_type, expires_in}."""
    ttl = current_app.config["ACCESS_TOKEN_TTL_SECONDS"]
    claims = {"sub": subject, "aud": current_app.config["JWT_AUDIENCE"], "tenant": tenant, "roles": roles}
    if customer_id:
        claims["customerId"] = customer_id
    token, _ = _encode(claims, ttl)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}


_VERIFIED = "storefleet.verified_access_tokens"


def init_tokens(app) -> None:
    """The app's cache of verified access tokens: each kept until it expires."""
    app.extensions[_VERIFIED] = ProcessCache.until(lambda claims: claims["exp"])


def _verify_access_token(token: str) -> dict:
    claims = _decode(token, current_app.config["JWT_AUDIENCE"])
    if "purpose" in claims:
        raise Unauthorized("This token is not an access token.")
    return claims


def verify_access_token(token: str) -> dict:
    """The claims of a valid access token (Unauthorized otherwise). A token verified once is
    kept by its process until its `exp`: an access token cannot change, so the signature and
    claims need checking only once (revocation of an API client is checked per request, in
    core.auth.principals). A refused token is never kept."""
    return current_app.extensions[_VERIFIED].get(token, _verify_access_token)


def _confirm_audience() -> str:
    return f"{current_app.config['JWT_AUDIENCE']}:{CONFIRM_PURPOSE}"


def issue_confirm_token(tenant_id: str) -> tuple[str, str]:
    """A single-use tenant-confirm token; returns (token, jti)."""
    claims = {"sub": tenant_id, "aud": _confirm_audience(), "purpose": CONFIRM_PURPOSE}
    token, payload = _encode(claims, current_app.config["CONFIRM_TOKEN_TTL_SECONDS"])
    return token, payload["jti"]


def verify_confirm_token(token: str) -> dict:
    claims = _decode(token, _confirm_audience())
    if claims.get("purpose") != CONFIRM_PURPOSE:
        raise Unauthorized("This token is not a provisioning confirmation token.")
    return claims
