"""sessions kept on the server (sign-out ends them); pay links a vendor can revoke

Revision ID: 0010_sign_in_sessions
Revises: 0009_row_level_security
Create Date: 2026-12-02 13:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import shared.clock
from migrations.rls import disable_tenant_rls, enable_tenant_rls


# revision identifiers, used by Alembic.
revision = '0010_sign_in_sessions'
down_revision = '0009_row_level_security'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('portal_users', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_portal_users_tenant_id_id', ['tenant_id', 'id'])
    op.create_table('sign_in_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False, comment='sha256 of the key in the cookie; the key is not kept.'),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('portal_user_id', sa.Integer(), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('expires_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    sa.CheckConstraint('(staff_user_id IS NULL) <> (portal_user_id IS NULL)', name=op.f('ck_sign_in_sessions_one_user')),
    sa.ForeignKeyConstraint(['tenant_id', 'portal_user_id'], ['portal_users.tenant_id', 'portal_users.id'], name=op.f('fk_sign_in_sessions_tenant_id_portal_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'staff_user_id'], ['staff_users.tenant_id', 'staff_users.id'], name=op.f('fk_sign_in_sessions_tenant_id_staff_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sign_in_sessions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_sessions')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_sign_in_sessions_key_hash'))
    )
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_sessions_tenant_id_portal_user_id', ['tenant_id', 'portal_user_id'], unique=False)
        batch_op.create_index('ix_sign_in_sessions_tenant_id_staff_user_id', ['tenant_id', 'staff_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_sessions_tenant_id'), ['tenant_id'], unique=False)
    enable_tenant_rls('sign_in_sessions')
    # Sessions now live in sign_in_sessions: every session made before this is ended.
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('session_token')
    with op.batch_alter_table('portal_users', schema=None) as batch_op:
        batch_op.drop_column('session_token')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pay_links_from', sa.Integer(), server_default='0', nullable=False, comment='Pay links carry the value current when made; raising it revokes the older ones.'))


def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('pay_links_from')
    for table in ('portal_users', 'staff_users'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('session_token', sa.String(length=32), nullable=False, server_default='0' * 32, comment='Part of every session; changing it signs the user out everywhere.'))
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_sessions_tenant_id'))
        batch_op.drop_index('ix_sign_in_sessions_tenant_id_staff_user_id')
        batch_op.drop_index('ix_sign_in_sessions_tenant_id_portal_user_id')
    disable_tenant_rls('sign_in_sessions')
    op.drop_table('sign_in_sessions')
    with op.batch_alter_table('portal_users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_portal_users_tenant_id_id', type_='unique')
