"""Imports every model module, so both metadata collections are complete wherever this is imported
(migrations, the app factory, tests)."""
from core.auth import models as auth_models  # noqa: F401
from core.cart import models as cart_models  # noqa: F401
from core.catalog import models as catalog_models  # noqa: F401
from core.customers import models as customer_models  # noqa: F401
from core.idempotency import models as idempotency_models  # noqa: F401
from core.orders import models as order_models  # noqa: F401
from core.provisioner import models as provisioner_models  # noqa: F401
from core.purchases import models as purchase_models  # noqa: F401
from core.tenancy import models as tenancy_models  # noqa: F401
