"""Shared set-up of the ledger tests (no tests here): a superuser connection that tampers as a DBA would."""
from __future__ import annotations

import contextlib
import os
from typing import Iterator

import psycopg2
import pytest
import sqlalchemy as sa

from ckan import model

from ckanext.sharing.ledger import signing


@contextlib.contextmanager
def superuser() -> Iterator[psycopg2.extensions.cursor]:
    """A cursor of the ``postgres`` superuser on the test database, over the cluster's socket
    (``bin/stack test-env`` exports it), committed on exit. The app's sessions are closed first,
    so that nothing of theirs holds a lock the tampering waits for."""
    sock = os.environ.get("SHARING_PG_ADMIN_SOCKET") or (
        os.path.join(os.environ["PG_HOME"], "sock") if os.environ.get("PG_HOME") else None)
    if not sock:
        pytest.fail("no PostgreSQL admin socket: run the tests through `make test` (bin/stack test-env)")
    model.Session.remove()
    url = model.meta.engine.url
    conn = psycopg2.connect(host=sock, port=int(os.environ.get("SHARING_PG_PORT") or url.port or 5432),
                            user="postgres", dbname=url.database)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            assert cur.fetchone()[0], "the tampering connection must be a superuser's"
            yield cur
    finally:
        conn.close()


def count(table: str = "sharing_audit") -> int:
    """Rows in a ledger table, as the app sees them."""
    return model.Session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.fixture
def signing_key(tmp_path, ckan_config, monkeypatch):
    """A fresh checkpoint signing key, configured as ckanext.sharing.audit_signing_key."""
    path = str(tmp_path / "audit.key")
    key = signing.keygen(path, "test.example/sharing-audit")
    monkeypatch.setitem(ckan_config, "ckanext.sharing.audit_signing_key", path)
    return key
