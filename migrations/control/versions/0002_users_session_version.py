"""users: session_version (sign-out ends every copy of a session); sign-in failures leave the table

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 21:45:00

Signing out raises users.session_version, which the portal's login id carries, so every copy of
a signed-in cookie stops working at once. Failed sign-ins are no longer counted in the user's
row towards a lock-out anyone could trigger: core.auth.throttle counts them in Redis, by account
and by client address, with back-off.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))
        batch.drop_column('failed_logins')
        batch.drop_column('locked_until')


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch.drop_column('session_version')
