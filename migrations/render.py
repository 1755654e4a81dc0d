"""How autogenerate writes our own column types into migration files (as plain SQLAlchemy types)."""

from sqlalchemy import DateTime

from shared.clock import UTCDateTime


def render_item(type_, obj, autogen_context):
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return repr(DateTime(timezone=True)).replace("DateTime", "sa.DateTime")
    return False
