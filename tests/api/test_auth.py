"""The auth server and the attacks a JWT verifier must refuse."""
from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from tests.conftest import SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD

PROTECTED = "/superadmin/tenants"


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def signing(app):
    with app.app_context():
        from core.auth.tokens import signing_key

        return signing_key()


def forge(app, signing, **overrides) -> str:
    now = datetime.now(timezone.utc)
    claims = {"iss": app.config["JWT_ISSUER"], "aud": app.config["JWT_AUDIENCE"], "sub": "attacker",
              "jti": "x", "iat": now, "exp": now + timedelta(minutes=5), "tenant": None, "roles": ["superadmin"]}
    claims.update(overrides)
    return jwt.encode(claims, signing.private_key, algorithm="RS256", headers={"kid": signing.kid})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


FORGED_STORE = {"slug": "forged-store", "name": "Forged", "planCode": "BASIC"}


def attempt(client, headers: dict) -> tuple[int, int, bool]:
    """Read and write the super-admin API with `headers`: the status of the read (list the
    tenants), of the write (create the store forged-store) and whether that store now exists."""
    read = client.get(PROTECTED, headers=headers)
    write = client.post(PROTECTED, headers=headers, json=FORGED_STORE)
    with client.application.app_context():
        from core.extensions import db
        from core.tenancy.models import Tenant

        created = db.session.scalar(db.select(Tenant.id).filter_by(slug=FORGED_STORE["slug"])) is not None
    return read.status_code, write.status_code, created


def test_password_grant_with_json(client):
    response = client.post("/auth/token", json={"grant_type": "password", "username": SUPERADMIN_EMAIL,
                                                 "password": SUPERADMIN_PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["kid"]
    claims = claims_of(body["access_token"])
    assert claims["roles"] == ["superadmin"] and claims["tenant"] is None
    assert {"sub", "jti", "exp", "iss", "aud"} <= set(claims)


def test_password_grant_with_form(client):
    response = client.post("/auth/token", data={"grant_type": "password", "username": SUPERADMIN_EMAIL,
                                                 "password": SUPERADMIN_PASSWORD})
    assert response.status_code == 200
    assert response.get_json()["token_type"] == "Bearer"
    assert claims_of(response.get_json()["access_token"])["roles"] == ["superadmin"]


def test_wrong_password_is_401(client):
    response = client.post("/auth/token", data={"grant_type": "password", "username": SUPERADMIN_EMAIL,
                                                 "password": "wrong-password"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert "access_token" not in response.get_json()


def test_unknown_user_is_401(client):
    response = client.post("/auth/token", json={"grant_type": "password", "username": "nobody@example.com",
                                                 "password": "whatever1"})
    assert response.status_code == 401
    wrong_password = client.post("/auth/token", json={"grant_type": "password", "username": SUPERADMIN_EMAIL,
                                                       "password": "whatever1"})
    # The same answer as a wrong password: the API does not tell which emails have an account.
    assert response.get_json()["detail"] == wrong_password.get_json()["detail"] == "Invalid email or password."


def test_unsupported_grant_is_400(client):
    response = client.post("/auth/token", json={"grant_type": "implicit"})
    assert response.status_code == 400
    assert "grant_type" in response.get_json()["errors"]


def test_missing_fields_are_400(client):
    response = client.post("/auth/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"client_id", "client_secret"}


def test_client_credentials_grant(client, create_tenant, superadmin_headers):
    slug = create_tenant()
    issued = client.post(f"/superadmin/tenants/{slug}/api-clients", headers=superadmin_headers,
                         json={"name": "Partner Co", "role": "partner"})
    assert issued.status_code == 201
    creds = issued.get_json()
    response = client.post("/auth/token", data={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                                 "client_secret": creds["clientSecret"]})
    assert response.status_code == 200
    claims = claims_of(response.get_json()["access_token"])
    assert claims["tenant"] == slug and claims["roles"] == ["partner"] and claims["sub"] == creds["clientId"]


def test_client_credentials_with_http_basic(client, create_tenant, superadmin_headers):
    slug = create_tenant()
    creds = client.post(f"/superadmin/tenants/{slug}/api-clients", headers=superadmin_headers,
                        json={"name": "Svc", "role": "service"}).get_json()
    basic = base64.b64encode(f"{creds['clientId']}:{creds['clientSecret']}".encode()).decode()
    response = client.post("/auth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200
    claims = claims_of(response.get_json()["access_token"])
    assert (claims["sub"], claims["tenant"], claims["roles"]) == (creds["clientId"], slug, ["service"])


def test_wrong_client_secret_is_401(client, create_tenant, superadmin_headers):
    slug = create_tenant()
    creds = client.post(f"/superadmin/tenants/{slug}/api-clients", headers=superadmin_headers,
                        json={"name": "P", "role": "partner"}).get_json()
    response = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                                 "client_secret": "not-it"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json" and "access_token" not in response.get_json()


def test_secrets_and_passwords_are_stored_hashed(app, client, create_tenant, superadmin_headers):
    slug = create_tenant()
    creds = client.post(f"/superadmin/tenants/{slug}/api-clients", headers=superadmin_headers,
                        json={"name": "P", "role": "partner"}).get_json()
    with app.app_context():
        from core.auth.models import ApiClient, User
        from core.extensions import db

        client_row = db.session.scalar(db.select(ApiClient).filter_by(client_id=creds["clientId"]))
        user_row = db.session.scalar(db.select(User).filter_by(email=SUPERADMIN_EMAIL))
        assert creds["clientSecret"] not in client_row.secret_hash
        assert client_row.secret_hash.startswith(("scrypt:", "pbkdf2:"))
        assert SUPERADMIN_PASSWORD not in user_row.password_hash


def test_jwks_publishes_the_signing_key(client, get_token):
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256"
    token = get_token()
    assert jwt.get_unverified_header(token)["kid"] == keys[0]["kid"]
    public_key = jwt.PyJWK(keys[0]).key
    claims = jwt.decode(token, public_key, algorithms=["RS256"], audience="storefleet-api")
    assert claims["roles"] == ["superadmin"]


# --- attacks -------------------------------------------------------------------------------------

def test_valid_forged_by_server_key_is_accepted(app, client, signing):
    """Control: a token signed with the real key passes, so the refusals below are meaningful."""
    assert attempt(client, bearer(forge(app, signing))) == (200, 201, True)


def test_alg_none_is_refused(app, client, signing):
    now = int(time.time())
    token = b64({"alg": "none", "typ": "JWT", "kid": signing.kid}) + "." + b64(
        {"iss": "storefleet", "aud": "storefleet-api", "sub": "x", "jti": "x", "exp": now + 300,
         "roles": ["superadmin"], "tenant": None}) + "."
    assert attempt(client, bearer(token)) == (401, 401, False)


def test_hs256_signed_with_public_key_is_refused(app, client, signing):
    public_pem = signing.public_key.public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())
    payload = {"iss": "storefleet", "aud": "storefleet-api", "sub": "x", "jti": "x", "exp": now + 300,
               "roles": ["superadmin"], "tenant": None}
    header = {"alg": "HS256", "typ": "JWT", "kid": signing.kid}
    import hashlib
    import hmac

    signing_input = f"{b64(header)}.{b64(payload)}"
    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()).decode().rstrip("=")
    assert attempt(client, bearer(f"{signing_input}.{signature}")) == (401, 401, False)


def test_expired_token_is_refused(app, client, signing):
    past = datetime.now(timezone.utc) - timedelta(hours=1)
    token = forge(app, signing, iat=past - timedelta(hours=1), exp=past)
    response = client.get(PROTECTED, headers=bearer(token))
    assert response.status_code == 401
    assert "expired" in response.get_json()["detail"]


def test_wrong_audience_is_refused(app, client, signing):
    assert attempt(client, bearer(forge(app, signing, aud="another-api"))) == (401, 401, False)


def test_wrong_issuer_is_refused(app, client, signing):
    assert attempt(client, bearer(forge(app, signing, iss="evil"))) == (401, 401, False)


def test_unknown_kid_is_refused(app, client, signing):
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode({"iss": "storefleet", "aud": "storefleet-api", "sub": "x", "jti": "x",
                        "exp": int(time.time()) + 300, "roles": ["superadmin"]}, other, algorithm="RS256",
                       headers={"kid": signing.kid})
    assert attempt(client, bearer(token)) == (401, 401, False)


def test_confirm_token_used_as_access_token_is_refused(client):
    token = client.post("/provision/tenants/init", json={"slug": "conf-x", "name": "C", "plan": "Basic"}
                        ).get_json()["confirmToken"]
    assert attempt(client, bearer(token)) == (401, 401, False)


def test_token_of_tenant_a_refused_on_tenant_b(client, create_tenant, superadmin_headers):
    store_a, store_b = create_tenant(), create_tenant()
    client.post(f"/superadmin/tenants/{store_a}/users", headers=superadmin_headers,
                json={"email": "owner@a.example.com", "password": "owner-password"})
    token = client.post("/auth/token", json={"grant_type": "password", "username": "owner@a.example.com",
                                              "password": "owner-password"}).get_json()["access_token"]
    assert claims_of(token)["tenant"] == store_a
    with client.application.test_request_context("/api/features", headers={"X-Tenant-Slug": store_b, **bearer(token)}):
        from web.tenancy import require_tenant_principal
        from core.errors import Unauthorized

        with pytest.raises(Unauthorized):
            require_tenant_principal("store_admin")
    with client.application.test_request_context("/api/features", headers={"X-Tenant-Slug": store_a, **bearer(token)}):
        assert require_tenant_principal("store_admin").tenant == store_a


def test_store_admin_token_cannot_use_superadmin_api(client, create_tenant, superadmin_headers):
    slug = create_tenant()
    client.post(f"/superadmin/tenants/{slug}/users", headers=superadmin_headers,
                json={"email": "owner@b.example.com", "password": "owner-password"})
    token = client.post("/auth/token", json={"grant_type": "password", "username": "owner@b.example.com",
                                              "password": "owner-password"}).get_json()["access_token"]
    assert attempt(client, bearer(token)) == (403, 403, False)


def test_revoked_client_token_is_refused(app, client, create_tenant, superadmin_headers, signing):
    slug = create_tenant()
    creds = client.post(f"/superadmin/tenants/{slug}/api-clients", headers=superadmin_headers,
                        json={"name": "P", "role": "partner"}).get_json()
    token = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                              "client_secret": creds["clientSecret"]}).get_json()["access_token"]
    with app.app_context():
        from core.auth.models import ApiClient
        from core.extensions import db
        from core.columns import utcnow

        db.session.scalar(db.select(ApiClient).filter_by(client_id=creds["clientId"])).revoked_at = utcnow()
        db.session.commit()
    with app.test_request_context(headers=bearer(token)):
        from web.auth import current_principal
        from core.errors import Unauthorized

        with pytest.raises(Unauthorized):
            current_principal()


def test_malformed_authorization_header_is_401(client):
    assert attempt(client, {"Authorization": "Token abc"}) == (401, 401, False)


def test_the_token_endpoint_documents_both_grants_as_form_and_json_and_http_basic(client):
    operation = client.get("/api/openapi.json").get_json()["paths"]["/auth/token"]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-www-form-urlencoded"}
    for media in content.values():
        grants = {branch["properties"]["grant_type"]["const"]: branch for branch in media["schema"]["oneOf"]}
        assert set(grants) == {"password", "client_credentials"}
        assert set(grants["password"]["required"]) == {"grant_type", "username", "password"}
        assert set(grants["client_credentials"]["required"]) == {"grant_type", "client_id", "client_secret"}
    assert {"basic": []} in operation["security"] and {} in operation["security"]


def test_overlong_credentials_are_400_naming_the_field(client):
    response = client.post("/auth/token", json={"grant_type": "password", "username": "a" * 255, "password": "x"})
    assert response.status_code == 400 and "username" in response.get_json()["errors"]
