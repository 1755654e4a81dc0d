"""late fees (one per invoice and period) and payment reminders (one per invoice, kind and
occurrence), with the vendor's reminder settings

The unique keys are what make the late-fee and reminder jobs idempotent with any number of job
processes: a run inserts its row if absent and acts only when it made it (shared.invoices.late_fees,
shared.invoices.reminders).

Revision ID: 0023_late_fees_reminders
Revises: 0019_refunds_idempotency
"""
from alembic import op
import sqlalchemy as sa

import shared.clock
from migrations.rls import disable_tenant_rls, enable_tenant_rls


revision = '0023_late_fees_reminders'
down_revision = '0022_autopay'
branch_labels = None
depends_on = None

TABLES = ('late_fees', 'reminder_settings', 'invoice_reminders')


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _tenant_fk(table, column, referred, ondelete='RESTRICT'):
    return sa.ForeignKeyConstraint(
        ['tenant_id', column], [f'{referred}.tenant_id', f'{referred}.id'],
        name=op.f(f'fk_{table}_tenant_id_{referred}'), ondelete=ondelete,
    )


def _tenant(table):
    return [
        sa.Column('tenant_id', sa.Integer(), nullable=False, comment='The vendor business this row belongs to.'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'), ondelete='CASCADE'),
    ]


def upgrade():
    op.create_table('late_fees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False, comment='1 for the first month overdue, 2 for the next…'),
    sa.Column('period_start', sa.Date(), nullable=False, comment="First day of the period (vendor's)."),
    sa.Column('kind', _enum('late_fee_row_kind', 'none', 'flat', 'percent'), nullable=False, comment='The policy it was assessed under (flat or percent).'),
    sa.Column('rate_bp', sa.Integer(), nullable=False, comment='The rate, for a percentage fee.'),
    sa.Column('base_cents', sa.BigInteger(), nullable=False, comment='The balance a percentage fee was taken of.'),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    *_tenant('late_fees'),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_late_fees_amount_positive')),
    sa.CheckConstraint('period >= 1', name=op.f('ck_late_fees_period_positive')),
    sa.CheckConstraint('rate_bp >= 0', name=op.f('ck_late_fees_rate_not_negative')),
    sa.CheckConstraint('base_cents >= 0', name=op.f('ck_late_fees_base_not_negative')),
    _tenant_fk('late_fees', 'invoice_id', 'invoices'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_late_fees')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_late_fees_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'invoice_id', 'period', name=op.f('uq_late_fees_tenant_id_invoice_id_period')),
    )
    with op.batch_alter_table('late_fees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_late_fees_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_late_fees_tenant_id_created_at', ['tenant_id', 'created_at'], unique=False)

    op.create_table('reminder_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('before_enabled', sa.Boolean(), nullable=False),
    sa.Column('before_days', sa.Integer(), nullable=False, comment='How many days before the due date.'),
    sa.Column('due_enabled', sa.Boolean(), nullable=False, comment='On the due date.'),
    sa.Column('overdue_enabled', sa.Boolean(), nullable=False),
    sa.Column('overdue_every_days', sa.Integer(), nullable=False, comment='Days between overdue reminders.'),
    sa.Column('overdue_max', sa.Integer(), nullable=False, comment='Overdue reminders at most, per invoice.'),
    sa.Column('updated_at', shared.clock.UTCDateTime(), nullable=False),
    *_tenant('reminder_settings'),
    sa.CheckConstraint('before_days >= 1 AND before_days <= 60', name=op.f('ck_reminder_settings_before_days_range')),
    sa.CheckConstraint('overdue_every_days >= 1 AND overdue_every_days <= 90', name=op.f('ck_reminder_settings_overdue_every_days_range')),
    sa.CheckConstraint('overdue_max >= 1 AND overdue_max <= 12', name=op.f('ck_reminder_settings_overdue_max_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_settings')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_reminder_settings_tenant_id')),
    )
    with op.batch_alter_table('reminder_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_settings_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('invoice_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('kind', _enum('reminder_kind', 'before_due', 'due', 'overdue'), nullable=False),
    sa.Column('occurrence', sa.Integer(), nullable=False, comment='0 before and on the due date; 1, 2, … for the overdue ones.'),
    sa.Column('sent_on', sa.Date(), nullable=False, comment="The vendor's day it was sent."),
    sa.Column('recipients', sa.Integer(), nullable=False, comment='Emails queued.'),
    sa.Column('created_at', shared.clock.UTCDateTime(), nullable=False),
    *_tenant('invoice_reminders'),
    sa.CheckConstraint('occurrence >= 0', name=op.f('ck_invoice_reminders_occurrence_not_negative')),
    _tenant_fk('invoice_reminders', 'invoice_id', 'invoices', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_reminders')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_invoice_reminders_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'invoice_id', 'kind', 'occurrence', name=op.f('uq_invoice_reminders_tenant_id_invoice_id_kind_occurrence')),
    )
    with op.batch_alter_table('invoice_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_reminders_tenant_id'), ['tenant_id'], unique=False)

    for table in TABLES:
        enable_tenant_rls(table)


def downgrade():
    for table in reversed(TABLES):
        disable_tenant_rls(table)
    op.drop_table('invoice_reminders')
    op.drop_table('reminder_settings')
    op.drop_table('late_fees')
