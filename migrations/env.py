import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import TypeDecorator

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_metadata():
    import youthclub.models  # noqa: F401  (every model registers its table)

    return current_app.extensions["migrate"].db.metadata


def render_item(type_, obj, autogen_context):
    """Write our TypeDecorators as the plain types they store, so migrations stand alone."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        autogen_context.imports.add("import sqlalchemy as sa")
        return f"sa.{obj.impl!r}"
    return False


def compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):
    if isinstance(metadata_type, TypeDecorator):
        return context.impl.compare_type(inspected_column, metadata_column.copy(type_=metadata_type.impl))
    return None


def run_migrations_offline():
    context.configure(
        url=str(get_engine().url).replace("%", "%%"),
        target_metadata=get_metadata(),
        literal_binds=True,
        render_item=render_item,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    conf_args = current_app.extensions["migrate"].configure_args
    conf_args.setdefault("compare_type", compare_type)
    conf_args.setdefault("render_item", render_item)
    conf_args.setdefault("render_as_batch", True)
    if conf_args.get("compare_type") is True:
        conf_args["compare_type"] = compare_type

    def process_revision_directives(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []

    conf_args.setdefault("process_revision_directives", process_revision_directives)
    connectable = get_engine()
    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_pragmas(connection, foreign_keys="OFF", legacy_alter_table="ON")
        try:
            context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration leaves rows whose foreign key points nowhere: {broken[:5]}")
        finally:
            if sqlite:
                _sqlite_pragmas(connection, foreign_keys="ON", legacy_alter_table="OFF")
                # and never back into the pool: a pragma set while SQLAlchemy still holds a transaction
                # open is ignored, and the app's next request would get a connection without foreign keys
                connection.invalidate()


def _sqlite_pragmas(connection, **values):
    """SQLite rebuilds a table in a batch migration by copy, drop and rename. With foreign keys on,
    the drop would delete every row that refers to the table with ON DELETE CASCADE (all the
    attendances of ``session``), and a rename would re-check every trigger mid-way; both are
    switched off for the migration, outside its transaction (where SQLite honours them), and
    the foreign keys are checked before it commits."""
    for name, value in values.items():
        connection.connection.driver_connection.execute(f"PRAGMA {name} = {value}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
