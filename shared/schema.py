"""Every model, imported in one place so the metadata (and so Alembic) sees the whole schema."""

from shared.ach.models import (  # noqa: F401
    AchEntry,
    AchFile,
    AchImport,
    AchNotice,
    AchRepresentment,
    AchSettings,
)
from shared.autopay.models import AutoPayItem, AutoPaySetting  # noqa: F401
from shared.bank_accounts.models import BankAccount  # noqa: F401
from shared.cards.models import (  # noqa: F401
    SandboxCharge,
    SandboxRefund,
    SavedCard,
    StripeWebhookEvent,
)
from shared.customers.models import Customer  # noqa: F401
from shared.faq.models import FaqEntry  # noqa: F401
from shared.idempotency import IdempotencyRecord  # noqa: F401
from shared.invoices.late_fees import LateFee  # noqa: F401
from shared.invoices.models import Invoice, InvoiceLine  # noqa: F401
from shared.invoices.reminders import InvoiceReminder, ReminderSettings  # noqa: F401
from shared.mail.models import OutboxAttachment, OutboxMessage  # noqa: F401
from shared.payments.execution import PaymentExecution  # noqa: F401
from shared.payments.models import (  # noqa: F401
    JournalEntry,
    Payment,
    PaymentAllocation,
    PaymentStatusChange,
    Refund,
    RefundLine,
)
from shared.portal_accounts.models import PortalAccount, PortalInvitation, PortalUser  # noqa: F401
from shared.sequences import TenantSequence  # noqa: F401
from shared.support.models import SupportReply, SupportRequest  # noqa: F401
from tenants.api_keys import ApiKey  # noqa: F401
from tenants.models import (  # noqa: F401
    StaffInvitation,
    StaffUser,
    Tenant,
    TenantDomain,
    TenantSlugRedirect,
)
