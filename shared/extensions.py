"""The Flask extensions, made once here and bound to an app by `wsgi.register_extensions`."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from shared.client_address import client_address

# Constraint names are spelled out so that migrations can drop and alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Session(FlaskSession):
    """The app's session: `get` and the legacy bulk methods go through tenant scoping too.

    They answer from the identity map or write below every session hook, so `shared.tenancy`
    (which imports this module, hence the late imports) decides for them.
    """

    def get(self, entity, ident, **kwargs):
        from shared.tenancy import session_get

        return session_get(self, super().get, entity, ident, **kwargs)

    def bulk_save_objects(self, objects, *args, **kwargs):
        from shared.tenancy import refuse_bulk

        objects = list(objects)
        refuse_bulk("bulk_save_objects", objects)
        return super().bulk_save_objects(objects, *args, **kwargs)

    def bulk_insert_mappings(self, mapper, *args, **kwargs):
        from shared.tenancy import refuse_bulk

        refuse_bulk("bulk_insert_mappings", [mapper])
        return super().bulk_insert_mappings(mapper, *args, **kwargs)

    def bulk_update_mappings(self, mapper, *args, **kwargs):
        from shared.tenancy import refuse_bulk

        refuse_bulk("bulk_update_mappings", [mapper])
        return super().bulk_update_mappings(mapper, *args, **kwargs)


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=client_address, default_limits=[])
