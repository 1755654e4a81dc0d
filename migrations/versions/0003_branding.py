"""branding, portal address redirects, fees

Revision ID: 0003_branding
Revises: 0002_balances
Create Date: 2026-11-22 03:25:13.258294

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_branding'
down_revision = '0002_balances'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tenant_slug_redirects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('old_slug', sa.String(length=63), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False, comment='Stops redirecting, and frees the slug, at this time.'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_slug_redirects_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_slug_redirects')),
    sa.UniqueConstraint('old_slug', name=op.f('uq_tenant_slug_redirects_old_slug'))
    )
    with op.batch_alter_table('tenant_slug_redirects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenant_slug_redirects_tenant_id'), ['tenant_id'], unique=False)

    # NOT NULL columns on an existing table: a server default fills the rows there are, then goes.
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logo_name', sa.String(length=80), nullable=True, comment='Server-made file name of the logo in storage (tenants/<id>/branding/).'))
        batch_op.add_column(sa.Column('brand_color', sa.String(length=7), nullable=False, server_default='#1d4ed8', comment='#rrggbb, checked for readable text.'))
        batch_op.add_column(sa.Column('support_email', sa.String(length=254), nullable=False, server_default='', comment='Shown to payers as where to get help; may be empty.'))
        batch_op.add_column(sa.Column('support_phone', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('card_fee_bp', sa.Integer(), nullable=False, server_default='300', comment='Credit-card surcharge in basis points (300 = 3%), 0 to 300.'))
        # The enum is written out as its column and its named check (add_column alone would not
        # create the check on PostgreSQL).
        batch_op.add_column(sa.Column('late_fee_kind', sa.String(length=20), nullable=False, server_default='none'))
        batch_op.add_column(sa.Column('late_fee_flat_cents', sa.BigInteger(), nullable=False, server_default='0', comment='Flat late fee per month overdue (kind flat), else 0.'))
        batch_op.add_column(sa.Column('late_fee_percent_bp', sa.Integer(), nullable=False, server_default='0', comment='Late fee per month overdue in basis points (kind percent), else 0.'))
        batch_op.add_column(sa.Column('late_fee_grace_days', sa.Integer(), nullable=False, server_default='0', comment='Days after the due date before a late fee applies.'))
        # Autogenerate does not see check constraints: written by hand.
        batch_op.create_check_constraint('late_fee_kind', "late_fee_kind IN ('none', 'flat', 'percent')")
        batch_op.create_check_constraint('card_fee_range', 'card_fee_bp >= 0 AND card_fee_bp <= 300')
        batch_op.create_check_constraint('late_fee_flat_not_negative', 'late_fee_flat_cents >= 0')
        batch_op.create_check_constraint('late_fee_percent_range', 'late_fee_percent_bp >= 0 AND late_fee_percent_bp <= 1000')
        batch_op.create_check_constraint('late_fee_grace_range', 'late_fee_grace_days >= 0 AND late_fee_grace_days <= 365')

    # The server defaults only filled existing rows; the model gives every new row its value.
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        for column in ('brand_color', 'support_email', 'support_phone', 'card_fee_bp', 'late_fee_kind',
                       'late_fee_flat_cents', 'late_fee_percent_bp', 'late_fee_grace_days'):
            batch_op.alter_column(column, server_default=None)


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_constraint('late_fee_grace_range', type_='check')
        batch_op.drop_constraint('late_fee_percent_range', type_='check')
        batch_op.drop_constraint('late_fee_flat_not_negative', type_='check')
        batch_op.drop_constraint('card_fee_range', type_='check')
        batch_op.drop_constraint('late_fee_kind', type_='check')
        batch_op.drop_column('late_fee_grace_days')
        batch_op.drop_column('late_fee_percent_bp')
        batch_op.drop_column('late_fee_flat_cents')
        batch_op.drop_column('late_fee_kind')
        batch_op.drop_column('card_fee_bp')
        batch_op.drop_column('support_phone')
        batch_op.drop_column('support_email')
        batch_op.drop_column('brand_color')
        batch_op.drop_column('logo_name')

    with op.batch_alter_table('tenant_slug_redirects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenant_slug_redirects_tenant_id'))

    op.drop_table('tenant_slug_redirects')
