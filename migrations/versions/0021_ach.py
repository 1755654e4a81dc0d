"""ach: the vendor's originator settings, the NACHA files built and their entries (a payment in at
most one, ever: UNIQUE payment_id), imported return/NOC files (applied once: UNIQUE digest) and
what each said; bank accounts can be disabled by a return and carry their prenote's date

Revision ID: 0021_ach
Revises: 0019_refunds_idempotency
Create Date: 2026-12-03 15:07:53.898600

"""
from alembic import op
import sqlalchemy as sa

import shared.clock
from migrations.rls import disable_tenant_rls, enable_tenant_rls


# revision identifiers, used by Alembic.
revision = '0021_ach'
down_revision = '0020_jobs'
branch_labels = None
depends_on = None

TABLES = ('ach_settings', 'ach_files', 'ach_entries', 'ach_imports', 'ach_notices')


def upgrade():
    op.create_table('ach_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('built_on', sa.Date(), nullable=False, comment="The vendor's business day it was built."),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('file_id_modifier', sa.String(length=1), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('total_debit_cents', sa.BigInteger(), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    sa.CheckConstraint('entry_count >= 0', name=op.f('ck_ach_files_entry_count_not_negative')),
    sa.CheckConstraint('total_debit_cents >= 0', name=op.f('ck_ach_files_total_debit_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ach_files_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ach_files')),
    sa.UniqueConstraint('tenant_id', 'built_on', 'file_id_modifier', name=op.f('uq_ach_files_tenant_id_built_on_file_id_modifier')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_ach_files_tenant_id_id'))
    )
    with op.batch_alter_table('ach_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ach_files_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('ach_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('returns', sa.Integer(), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.Column('unmatched', sa.Integer(), nullable=False, comment='Entries naming no entry of ours.'),
    sa.Column('actor_kind', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ach_imports_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ach_imports')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_ach_imports_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'sha256', name=op.f('uq_ach_imports_tenant_id_sha256'))
    )
    with op.batch_alter_table('ach_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ach_imports_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('ach_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('immediate_destination', sa.String(length=9), nullable=False, comment="Routing number the files go to (the ODFI's or its operator's)."),
    sa.Column('immediate_destination_name', sa.String(length=23), nullable=False),
    sa.Column('immediate_origin', sa.String(length=10), nullable=False, comment='10 characters the bank assigned, often 1 + the tax id.'),
    sa.Column('immediate_origin_name', sa.String(length=23), nullable=False),
    sa.Column('odfi_routing', sa.String(length=9), nullable=False, comment="The originating bank's routing number; traces begin with its 8."),
    sa.Column('company_identification', sa.String(length=10), nullable=False),
    sa.Column('company_name', sa.String(length=16), nullable=False),
    sa.Column('entry_description', sa.String(length=10), nullable=False),
    sa.Column('cutoff_minutes', sa.Integer(), nullable=False, comment="The bank's daily cut-off, minutes after midnight in the vendor's time zone."),
    sa.Column('next_trace', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    sa.CheckConstraint('next_trace >= 1', name=op.f('ck_ach_settings_next_trace_positive')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ach_settings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ach_settings')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_ach_settings_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_ach_settings_tenant_id'))
    )
    with op.batch_alter_table('ach_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ach_settings_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('ach_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ach_file_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('debit', 'prenote', name='ach_entry_kind', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('bank_account_id', sa.Integer(), nullable=False),
    sa.Column('sec_code', sa.String(length=3), nullable=False),
    sa.Column('trace_number', sa.String(length=15), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('return_code', sa.String(length=3), nullable=False, comment='The R-code it came back with, once returned.'),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    sa.CheckConstraint("(kind = 'prenote' AND amount_cents = 0 AND payment_id IS NULL) OR (kind = 'debit' AND amount_cents > 0 AND payment_id IS NOT NULL)", name=op.f('ck_ach_entries_debit_or_prenote')),
    sa.CheckConstraint('amount_cents >= 0', name=op.f('ck_ach_entries_amount_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'ach_file_id'], ['ach_files.tenant_id', 'ach_files.id'], name=op.f('fk_ach_entries_tenant_id_ach_files'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'bank_account_id'], ['bank_accounts.tenant_id', 'bank_accounts.id'], name=op.f('fk_ach_entries_tenant_id_bank_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'payment_id'], ['payments.tenant_id', 'payments.id'], name=op.f('fk_ach_entries_tenant_id_payments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ach_entries_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ach_entries')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_ach_entries_payment_id')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_ach_entries_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'trace_number', name=op.f('uq_ach_entries_tenant_id_trace_number'))
    )
    with op.batch_alter_table('ach_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ach_entries_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_ach_entries_tenant_id_ach_file_id', ['tenant_id', 'ach_file_id'], unique=False)
        batch_op.create_index('ix_ach_entries_tenant_id_bank_account_id', ['tenant_id', 'bank_account_id'], unique=False)

    op.create_table('ach_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ach_import_id', sa.Integer(), nullable=False),
    sa.Column('ach_entry_id', sa.Integer(), nullable=True, comment='NULL: it named no entry of ours.'),
    sa.Column('code', sa.String(length=3), nullable=False, comment='R01…, or C01…'),
    sa.Column('original_trace', sa.String(length=15), nullable=False),
    sa.Column('corrected_data', sa.String(length=29), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False, comment='What was done, for people.'),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
    sa.ForeignKeyConstraint(['tenant_id', 'ach_entry_id'], ['ach_entries.tenant_id', 'ach_entries.id'], name=op.f('fk_ach_notices_tenant_id_ach_entries'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'ach_import_id'], ['ach_imports.tenant_id', 'ach_imports.id'], name=op.f('fk_ach_notices_tenant_id_ach_imports'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ach_notices_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ach_notices')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_ach_notices_tenant_id_id'))
    )
    with op.batch_alter_table('ach_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ach_notices_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_ach_notices_tenant_id_ach_entry_id', ['tenant_id', 'ach_entry_id'], unique=False)
        batch_op.create_index('ix_ach_notices_tenant_id_ach_import_id', ['tenant_id', 'ach_import_id'], unique=False)

    with op.batch_alter_table('bank_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', shared.clock.UTCDateTime(), nullable=True, comment='Set when an ACH return (R02, R03, R04, R10, R29) stops its use.'))
        batch_op.add_column(sa.Column('disabled_reason', sa.String(length=3), server_default='', nullable=False, comment='The R-code that disabled it.'))
        batch_op.add_column(sa.Column('prenote_on', sa.Date(), nullable=True, comment='Effective date of its zero-dollar prenote (first-use validation, WEB).'))

    for table in TABLES:
        enable_tenant_rls(table)


def downgrade():
    for table in TABLES:
        disable_tenant_rls(table)
    with op.batch_alter_table('bank_accounts', schema=None) as batch_op:
        batch_op.drop_column('prenote_on')
        batch_op.drop_column('disabled_reason')
        batch_op.drop_column('disabled_at')

    with op.batch_alter_table('ach_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_ach_notices_tenant_id_ach_import_id')
        batch_op.drop_index('ix_ach_notices_tenant_id_ach_entry_id')
        batch_op.drop_index(batch_op.f('ix_ach_notices_tenant_id'))

    op.drop_table('ach_notices')
    with op.batch_alter_table('ach_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ach_entries_tenant_id_bank_account_id')
        batch_op.drop_index('ix_ach_entries_tenant_id_ach_file_id')
        batch_op.drop_index(batch_op.f('ix_ach_entries_tenant_id'))

    op.drop_table('ach_entries')
    with op.batch_alter_table('ach_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ach_settings_tenant_id'))

    op.drop_table('ach_settings')
    with op.batch_alter_table('ach_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ach_imports_tenant_id'))

    op.drop_table('ach_imports')
    with op.batch_alter_table('ach_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ach_files_tenant_id'))

    op.drop_table('ach_files')
