"""orders.session_id: the shopper session a checkout order came from

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 17:20:00

The storefront's confirmation page read who placed an order from the idempotency record that
placed it; the order now says it itself, so those records can be purged. Existing orders get it
from the record that placed them: the one with the order's key whose stored answer names the
order's number (keys are only unique per caller), when its scope is a guest's,
"<slug>:session:<session id>".
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

SESSION_SCOPE = ':session:'


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_id', sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        session_of_scope = "split_part(r.scope, :marker, 2)"
    else:
        session_of_scope = "substr(r.scope, instr(r.scope, :marker) + length(:marker))"
    op.execute(sa.text(
        f"UPDATE orders SET session_id = (SELECT {session_of_scope} FROM idempotency_records r "
        "WHERE r.key = orders.idempotency_key AND r.scope LIKE '%' || :marker || '%' "
        "AND r.response_body LIKE '%' || orders.number || '%' LIMIT 1) "
        "WHERE idempotency_key IS NOT NULL").bindparams(marker=SESSION_SCOPE))


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('session_id')
