"""Multi-step flows that several tests walk through over HTTP."""
from __future__ import annotations

import uuid


def init_and_confirm(client, slug: str | None = None, plan: str = "Premium") -> tuple[str, str]:
    """POST init then confirm; returns (provisioningId, slug). The tenant is then Queued."""
    slug = slug or f"s-{uuid.uuid4().hex[:10]}"
    init = client.post("/provision/tenants/init", json={"slug": slug, "name": f"Store {slug}", "plan": plan})
    assert init.status_code == 200, init.get_json()
    body = init.get_json()
    confirm = client.post("/provision/tenants/confirm", headers={"Authorization": f"Bearer {body['confirmToken']}"})
    assert confirm.status_code == 200, confirm.get_json()
    return body["provisioningId"], slug
