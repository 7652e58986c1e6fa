"""The live portal (tests/live.py) and what operators see in its log (issue 10, "Operators must see failures")."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import rq

from ckan.lib import jobs

from ckanext.sharing.catalogue.schemas import sharing_sample_record

from tests.live import DEFAULT_PLUGINS, LivePortal, LiveWorker, make_user


def _uploaded_resource(portal: LivePortal) -> tuple[dict, dict]:
    """An open catalogue dataset with one uploaded CSV, created through the portal's API; (dataset, resource)."""
    admin = make_user(sysadmin=True)
    org = portal.action("organization_create", admin.token, name=f"live-org-{admin.name[-8:]}", title="Live test org")
    pkg = portal.action("package_create", admin.token, name=f"live-ds-{admin.name[-8:]}",
                        **sharing_sample_record(owner_org=org["id"]))
    res = portal.action("resource_create", admin.token, files={"upload": ("numbers.csv", b"a,b\n1,2\n", "text/csv")},
                        package_id=pkg["id"], name="numbers.csv", format="CSV")
    return pkg, res


def test_live_portal_runs_the_asked_plugins_on_its_port(live_portal: LivePortal) -> None:
    """The default live portal answers status_show with the demo's plugins and its own site_url."""
    status = live_portal.action("status_show")
    assert set(DEFAULT_PLUGINS.split()) <= set(status["extensions"])
    assert status["site_url"] == live_portal.url


@pytest.mark.usefixtures("clean_db")
def test_users_made_after_clean_db_log_in_to_the_running_portal(live_portal: LivePortal) -> None:
    """CKAN's clean_db may reset the database under a running portal: a user made afterwards is served."""
    user = make_user(fullname="Live Person")

    me = live_portal.action("user_show", user.token, id=user.name)

    assert me["fullname"] == "Live Person"
    assert live_portal.get("/dashboard/datasets", headers=user.headers).status_code == 200
    assert live_portal.get("/dashboard/datasets", allow_redirects=False).status_code in (302, 403)


def test_a_500_is_logged_with_its_traceback_but_not_shown(live_portal: LivePortal) -> None:
    """A download whose stored file is gone answers 500: the traceback is in the portal's log, not in the page."""
    pkg, res = _uploaded_resource(live_portal)
    stored = Path(os.environ["CKAN_STORAGE_PATH"], "resources", res["id"][:3], res["id"][3:6], res["id"][6:])
    assert stored.is_file(), "the upload was stored where CKAN's resource uploader keeps it"
    stored.unlink()
    mark = live_portal.log_mark()

    resp = live_portal.get(f"/dataset/{pkg['id']}/resource/{res['id']}/download/numbers.csv")

    assert resp.status_code == 500
    for secret in ("Traceback", "FileNotFoundError", str(stored), "site-packages"):
        assert secret not in resp.text
    log = live_portal.log_since(mark, expect="FileNotFoundError")
    assert "Traceback (most recent call last)" in log
    assert "FileNotFoundError" in log and res["id"][6:] in log


def test_a_failed_job_is_logged_with_its_traceback(live_worker: LiveWorker) -> None:
    """A background job that raises leaves its traceback in the worker's log (bin/stack worker)."""
    mark = live_worker.log_mark()

    job = jobs.enqueue(json.loads, ["not json"], title="live worker log check")

    # a deadline, not a timing: the job is logged within a second or two (start_worker drops the jobs earlier
    # tests left, scheduled ones included); the message says what RQ saw if not
    log = live_worker.log_since(mark, expect="JSONDecodeError", timeout=120)
    queue = jobs.get_queue()
    seen = (f"job {job.id} on {job.origin!r} is {job.get_status(refresh=True)}; {queue.count} job(s) on "
            f"{queue.name!r}; workers: {[(w.pid, w.queue_names(), w.get_state()) for w in rq.Worker.all(queue=queue)]}; "
            f"our worker pid {live_worker.pid()}")
    assert f"Job {job.id}" in log, f"{seen}; worker log since the enqueue:\n{log[-3000:]}"
    assert "Traceback (most recent call last)" in log
    assert "json.decoder.JSONDecodeError: Expecting value" in log
