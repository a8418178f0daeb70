"""Work done in every store's database by the background sweeps (core.recovery, the purge of
old idempotency records)."""
from __future__ import annotations

import logging
from typing import Callable, Collection, TypeVar

from sqlalchemy.orm import Session

from core.extensions import db
from core.tenancy.engines import engines
from core.tenancy.models import PROVISIONED_STATUSES, Tenant
from core.unit_of_work import own_transaction

log = logging.getLogger(__name__)

T = TypeVar("T")


def visit_stores(work: Callable[[Session], T], *, write: bool = False,
                 only: Collection[str] | None = None) -> tuple[dict[str, T], list[str]]:
    """Run `work(session)` in every provisioned store's database (or those of them whose slug is
    in `only`), by slug, each in a transaction of its own (committed when it returns). Returns
    {slug: what work returned} and the slugs whose database failed: those are logged, and never
    stop the visit of the others.

    Connections come from engines().passing: a sweep over every store must not push what the
    busy stores keep (engines, idle connections) out."""
    provisioned = db.select(Tenant.slug, Tenant.db_url).where(Tenant.status.in_(PROVISIONED_STATUSES))
    if only is not None:
        provisioned = provisioned.where(Tenant.slug.in_(only))
    stores = db.session.execute(provisioned.order_by(Tenant.slug)).all()
    results, failed = {}, []
    for slug, db_url in stores:
        try:
            with engines().passing(db_url) as connection, own_transaction(connection, write=write) as session:
                results[slug] = work(session)
        except Exception:  # one store's database down must not stop the sweep of the others
            log.exception("sweep could not work in the database of tenant %s", slug)
            failed.append(slug)
    return results, failed
