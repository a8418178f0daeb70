"""catalog_revision: a number the database raises whenever what a catalog listing counts changes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 14:00:00

A catalog page tells its total count; counting every matching product on each request was a
third of its cost. The count only changes when products are added, removed, (de)activated,
renamed or repriced, or linked to or unlinked from categories, so the database now raises
catalog_revision.revision in each such transaction, and core.catalog.listing keeps each count
by (database, epoch, revision). Stock changes (the hot path of every order) do not touch it:
the triggers name the columns they watch.

PostgreSQL: statement-level AFTER triggers, so a bulk insert raises it once. SQLite has only
row-level triggers: one raise per row changed, still inside the writer's transaction.

`epoch` is random per database, so a database dropped and made again under the same name (a
store re-provisioned) never repeats a (epoch, revision) pair a process may still keep. A
database copied from a template must draw a new epoch.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# What each watched table's triggers fire on: (table, events, columns of UPDATE OF or None for any).
WATCHED = (
    ('products', ('INSERT', 'DELETE', 'UPDATE'), ('is_active', 'name', 'price', 'discount')),
    ('product_categories', ('INSERT', 'DELETE', 'UPDATE'), None),
)
RAISE = 'UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1'


def _trigger_name(table, event):
    return f'{table}_{event.lower()}_raises_catalog_revision'


def upgrade():
    op.create_table(
        'catalog_revision',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('epoch', sa.String(length=32), nullable=False),
        sa.Column('revision', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_revision')),
    )
    postgresql = op.get_bind().dialect.name == 'postgresql'
    epoch = "md5(random()::text || clock_timestamp()::text)" if postgresql else "lower(hex(randomblob(16)))"
    op.execute(f'INSERT INTO catalog_revision (id, epoch, revision) VALUES (1, {epoch}, 0)')
    if postgresql:
        op.execute('CREATE FUNCTION raise_catalog_revision() RETURNS trigger LANGUAGE plpgsql AS '
                   f"$$ BEGIN {RAISE}; RETURN NULL; END $$")
    for table, events, columns in WATCHED:
        for event in events:
            when = f'UPDATE OF {", ".join(columns)}' if event == 'UPDATE' and columns else event
            if postgresql:
                op.execute(f'CREATE TRIGGER {_trigger_name(table, event)} AFTER {when} ON {table} '
                           'FOR EACH STATEMENT EXECUTE FUNCTION raise_catalog_revision()')
            else:
                op.execute(f'CREATE TRIGGER {_trigger_name(table, event)} AFTER {when} ON {table} '
                           f'BEGIN {RAISE}; END')


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for table, events, _columns in WATCHED:
        for event in events:
            op.execute(f'DROP TRIGGER {_trigger_name(table, event)}' + (f' ON {table}' if postgresql else ''))
    if postgresql:
        op.execute('DROP FUNCTION raise_catalog_revision()')
    op.drop_table('catalog_revision')
