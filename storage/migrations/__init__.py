"""Alembic migrations of the catalog schema, shipped with the package and configured in code
(no ``alembic.ini``): :func:`alembic_config` is what :class:`storage.catalog.Catalog` and the
tests hand to ``alembic.command``.

A new revision, after changing the models in :mod:`storage.catalog.models`::

    python -c "from alembic import command; from storage.migrations import alembic_config; \\
    command.revision(alembic_config('sqlite:///old.db'), 'what changed', autogenerate=True, \\
    rev_id='0003_what_changed')"

against a database at the previous head, then read and trim the generated file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config

#: The schema as it was when migrations were introduced; databases made by an idleshare
#: without migrations (tables, no ``alembic_version``) are stamped with it.
BASELINE = "0001_baseline"

#: The newest revision, which this idleshare's models describe. Written here, not read from
#: the scripts, so that the usual start (database already there) never imports Alembic (a
#: fifth of a second per process); a test checks it against the scripts' head.
HEAD = "0013_offer_places_by_kind"

SCRIPT_LOCATION = str(Path(__file__).resolve().parent)


def alembic_config(url: str | None = None, connection: Any = None) -> Config:
    """An Alembic config for the catalog at ``url``, or on ``connection`` (used as is, inside
    its open transaction: ``env.py`` then neither connects nor commits)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # Revision ids say what they do ("0002_api_key_last_used"); files are named after them.
    config.set_main_option("file_template", "%%(rev)s")
    if url is not None:
        # "%" is ConfigParser interpolation syntax; URLs may hold it (escaped passwords).
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config
