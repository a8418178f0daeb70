"""The store directory: the stores that requests and jobs name, looked up by slug and kept per
process for a short while.

Every API call, page and purchase job names its store. Reading the tenant row from the control
database each time cost a query and a transaction of its own (14 % of a catalog request). The
directory keeps each provisioned store (Ready or Suspended) it has read, fed by the change feed
(core.caching):

- a change to a tenant or a plan is seen at once by the process that commits it (a listener on
  the control session forgets what the commit changed), which also announces it in Redis;
- every other web process and worker reads the announcements at most once per
  STORE_CACHE_SECONDS (default 5) and forgets what they name, so a store a super admin suspends
  is refused everywhere within that time, however many stores a process keeps;
- a change made behind the app's back (psql) is seen within STORE_CACHE_MAX_SECONDS.

A store that is not provisioned (Pending, Queued, Provisioning, Seeding, Failed) or not found is
never kept: it is read each time, so a store becomes usable the moment its provisioning commits.

The directory hands out `Store`s: frozen snapshots of the tenant row and its plan, never ORM
objects. No request can change one or reach the control database through it, and one snapshot
may be shared by every thread of a process.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Mapping

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.caching import ProcessCache, change_feed, forget_on_commit
from core.errors import NotFound
from core.extensions import db
from core.tenancy.features import Feature, Limit, effective_features, effective_limits
from core.tenancy.models import PROVISIONED_STATUSES, Plan, Tenant


@dataclass(frozen=True, slots=True)
class PlanTerms:
    """What a store's plan grants: its feature flags and limits, by their API names."""

    code: str
    name: str
    features: Mapping[str, bool]
    limits: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Store:
    """A tenant as requests and jobs use it: the attributes of the Tenant row they read, with
    its plan, frozen (core.tenancy.features reads either)."""

    id: str
    slug: str
    name: str
    status: str
    plan_code: str
    plan: PlanTerms
    db_name: str
    db_url: str
    feature_overrides: Mapping[str, bool]
    limit_overrides: Mapping[str, int]
    tax_rate: Decimal
    flat_shipping: Decimal
    free_shipping_threshold: Decimal
    # The plan's with the overrides applied, worked out once (what effective_features and
    # effective_limits answer for this store): every request asks for them.
    feature_flags: Mapping[Feature, bool]
    limit_values: Mapping[Limit, int]

    @classmethod
    def of(cls, tenant: Tenant) -> Store:
        plan = tenant.plan
        return cls(id=tenant.id, slug=tenant.slug, name=tenant.name, status=tenant.status,
                   plan_code=tenant.plan_code,
                   plan=PlanTerms(plan.code, plan.name, MappingProxyType(dict(plan.features or {})),
                                  MappingProxyType(dict(plan.limits or {}))),
                   db_name=tenant.db_name, db_url=tenant.db_url,
                   feature_overrides=MappingProxyType(dict(tenant.feature_overrides or {})),
                   limit_overrides=MappingProxyType(dict(tenant.limit_overrides or {})),
                   tax_rate=tenant.tax_rate, flat_shipping=tenant.flat_shipping,
                   free_shipping_threshold=tenant.free_shipping_threshold,
                   feature_flags=MappingProxyType(effective_features(tenant)),
                   limit_values=MappingProxyType(effective_limits(tenant)))


_BY_SLUG = select(Tenant).where(Tenant.slug == db.bindparam("slug"))
_DIRECTORY = "storefleet.stores"


def _read(slug: str) -> Store | None:
    """The tenant row, on a connection of its own, so the caller's control session (and its
    transaction) is not touched."""
    with db.engine.connect() as connection, Session(bind=connection) as session:
        tenant = session.scalar(_BY_SLUG, {"slug": slug})
        return Store.of(tenant) if tenant is not None else None


def _provisioned(store: Store | None) -> bool:
    return store is not None and store.status in PROVISIONED_STATUSES


def init_directory(app) -> ProcessCache[str, Store | None]:
    """The app's store directory: provisioned stores by slug, fed by the app's change feed."""
    directory = app.extensions[_DIRECTORY] = change_feed(app).keep(_DIRECTORY)
    return directory


# A commit that changes a tenant forgets its store; one that changes a plan forgets them all.
forget_on_commit(Tenant, _DIRECTORY, lambda tenant: tenant.slug)
forget_on_commit(Plan, _DIRECTORY, None)


def find_store(slug: str | None) -> Store | None:
    """The store named `slug` (case and surrounding blanks ignored), or None."""
    slug = (slug or "").strip().lower()
    if not slug:
        return None
    return current_app.extensions[_DIRECTORY].get(slug, _read, keep=_provisioned)


def get_store(slug: str) -> Store:
    """The store named `slug`; NotFound when there is none."""
    store = find_store(slug)
    if store is None:
        raise NotFound(f"Tenant '{slug}' not found.")
    return store
