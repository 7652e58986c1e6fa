"""Concurrent catalogue imports (issue 15, SPEC §12): real ``ckan sharing catalogue import`` processes on the test
database at the same time. A dry run's rows are never committed, so no other import may wait on them (nor they on
another's uncommitted rows); two real imports that create the same organizations create each one once.

The subprocess timeout is a hang guard (a dry run waiting on a row that is never committed would never end), not a
speed assertion."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from ckan import model

from ckanext.sharing.catalogue import naming
from ckanext.sharing.catalogue.transfer import importer

from tests.catalogue.transfer import files
from tests.catalogue.transfer.test_import import PLUGINS, row
from tests.live import ROOT

CKAN = Path(sys.prefix) / "bin" / "ckan"
HANG_GUARD = 600  # seconds
PROVIDERS = ("新部门甲", "新部门乙", "新部门丙")
ROWS = 60  # more than one batch of 50: --workers 2 forks two writers
BAD_DATES = (7, 31)
COUNTS = re.compile(r"created (\d+), updated (\d+), unchanged (\d+), refused (\d+)")


def _rows(offset: int = 0) -> list[dict[str, str]]:
    """Rows of three providers that are not in the portal, two of them with an impossible date."""
    return [row(n + offset, 信息资源提供方=PROVIDERS[n % 3], **({"发布日期": "2023-02-30"} if n in BAD_DATES else {}))
            for n in range(1, ROWS + 1)]


def _ini(tmp_path: Path) -> Path:
    ini = tmp_path / "portal.ini"
    ini.write_text(f"[app:main]\nuse = config:{ROOT / 'test.ini'}\nckan.plugins = {PLUGINS}\n"
                   "ckan.locale_default = en\n", encoding="utf-8")
    return ini


def _start(ini: Path, source: Path, *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(CKAN), "-c", str(ini), "sharing", "catalogue", "import", str(source),
                             "--create-organizations", "--workers", "2", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ), cwd=ROOT,
                            start_new_session=True)  # its forked writers are stopped with it (hang guard)


def _counts(process: subprocess.Popen[str]) -> tuple[int, ...]:
    """Wait for the command (the hang guard kills it) → (created, updated, unchanged, refused)."""
    try:
        out, err = process.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the command and its writers, which keep its pipes open
        out, err = process.communicate()
        pytest.fail(f"the import did not finish in {HANG_GUARD} s (waiting on another's rows?)\n{err[-3000:]}")
    assert process.returncode == 0, err[-3000:]
    found = COUNTS.findall(out)
    assert found, out[-3000:]
    return tuple(int(n) for n in found[-1])


@pytest.fixture
def uncommitted() -> Iterator[sa.engine.Connection]:
    """A connection whose transaction stays open (another import's uncommitted rows and locks)."""
    connection = model.meta.engine.connect()
    transaction = connection.begin()
    try:
        yield connection
    finally:
        if transaction.is_active:
            transaction.rollback()
        connection.close()


def _waiting_backends() -> int:
    with model.meta.engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                          "AND wait_event_type = 'Lock'")).scalar_one()


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_two_dry_runs_at_once_beside_uncommitted_rows_finish_with_the_same_counts(tmp_path, uncommitted):
    """Two dry runs started together, while another transaction holds the real names uncommitted, both finish alike."""
    source = tmp_path / "目录.csv"
    source.write_bytes(files.to_csv(_rows()))
    # the rows a real import would be writing: the organizations' and datasets' real names, the first code's lock
    for title in PROVIDERS:
        uncommitted.execute(sa.text('INSERT INTO "group" (id, name, title, type, is_organization, state) '
                                    "VALUES (:id, :name, :title, 'organization', true, 'active')"),
                            {"id": str(uuid.uuid4()), "name": naming.slug(title), "title": title})
    for n in range(1, ROWS + 1):
        uncommitted.execute(sa.text("INSERT INTO package (id, name, title, type, state) "
                                    "VALUES (:id, :name, :title, 'dataset', 'active')"),
                            {"id": str(uuid.uuid4()), "name": naming.slug(f"测试资源{n}"), "title": f"测试资源{n}"})
    uncommitted.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": "sharing_res_code:101001001/000001"})
    ini = _ini(tmp_path)
    first, second = _start(ini, source, "--dry-run"), _start(ini, source, "--dry-run")
    counts = (_counts(first), _counts(second))
    assert counts[0] == counts[1] == (ROWS - len(BAD_DATES), 0, 0, len(BAD_DATES))
    model.Session.remove()
    assert model.Session.query(model.Group).count() == 0  # nothing of theirs committed (ours rolled back next)
    assert model.Session.query(model.Package).count() == 0


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_a_real_import_waits_for_another_imports_organizations_and_uses_them(tmp_path, uncommitted):
    """A real import that would create an organization another import is creating waits for it and creates none twice."""
    source = tmp_path / "目录.csv"
    source.write_bytes(files.to_csv(_rows(offset=1000)))
    # another import's organization step: its lock taken, one of the same organizations inserted, not yet committed
    uncommitted.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": importer.ORG_CREATE_LOCK})
    other = str(uuid.uuid4())
    uncommitted.execute(sa.text('INSERT INTO "group" (id, name, title, type, is_organization, state, approval_status) '
                                "VALUES (:id, :name, :title, 'organization', true, 'active', 'approved')"),
                        {"id": other, "name": naming.slug(PROVIDERS[0]), "title": PROVIDERS[0]})
    process = _start(_ini(tmp_path), source)
    deadline = time.monotonic() + 120
    while _waiting_backends() == 0 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.5)
    assert process.poll() is None, "the import did not wait for the other import's organization step"
    uncommitted.commit()
    assert _counts(process) == (ROWS - len(BAD_DATES), 0, 0, len(BAD_DATES))
    model.Session.remove()
    for title in PROVIDERS:
        assert model.Session.query(model.Group).filter_by(title=title, state="active").count() == 1, title
    owners = {owner for (owner,) in model.Session.query(model.Package.owner_org)}
    assert other in owners  # the rows of that provider went into the organization the other import created
