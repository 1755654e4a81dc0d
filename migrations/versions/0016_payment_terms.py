"""Payment terms stored as a code: 'Net 30' becomes net_30, 'Due on receipt' due_on_receipt.

Revision ID: 0016_payment_terms
Revises: 0012_mail_reply_to
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_payment_terms"
down_revision = "0014_bank_accounts"
branch_labels = None
depends_on = None

_DAYS = (7, 10, 15, 30, 45, 60, 90)


def upgrade() -> None:
    bind = op.get_bind()
    for days in _DAYS:
        bind.execute(
            sa.text("UPDATE invoices SET terms = :code WHERE lower(trim(terms)) = :text"),
            {"code": f"net_{days}", "text": f"net {days}"},
        )
    bind.execute(
        sa.text(
            "UPDATE invoices SET terms = 'due_on_receipt' WHERE lower(trim(terms)) = 'due on receipt'"
        )
    )


def downgrade() -> None:
    bind = op.get_bind()
    for days in _DAYS:
        bind.execute(
            sa.text("UPDATE invoices SET terms = :text WHERE terms = :code"),
            {"code": f"net_{days}", "text": f"Net {days}"},
        )
    bind.execute(
        sa.text("UPDATE invoices SET terms = 'Due on receipt' WHERE terms = 'due_on_receipt'")
    )
