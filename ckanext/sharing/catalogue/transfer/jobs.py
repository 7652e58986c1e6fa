"""The upload page's imports as background jobs on CKAN's queue (SPEC §12): the preview (a dry run) and the
import itself, with their progress and report kept in Redis so any web process shows them and a page reload
finds the job again (SPEC §8: nothing kept in a process). The uploaded file is kept in CKAN's storage path
(shared by every web host and worker, as uploads are) until the import has run.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any, Optional

import ckan.plugins.toolkit as tk

log = logging.getLogger(__name__)

KEY = "sharing:catalogue_import:"
KEEP_SECONDS = 7 * 24 * 3600
PREVIEW, IMPORT = "preview", "import"
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
JOB_TIMEOUT = 6 * 3600


def _redis() -> Any:
    from ckan.lib.redis import connect_to_redis

    return connect_to_redis()


def storage_dir() -> Optional[Path]:
    """Where uploaded catalogue files wait for their job (None without ``ckan.storage_path``)."""
    root = tk.config.get("ckan.storage_path")
    if not root:
        return None
    path = Path(root) / "sharing" / "catalogue_imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def load(import_id: str) -> Optional[dict[str, Any]]:
    """The stored state of one import, or None (unknown or expired)."""
    if not import_id or not all(c.isalnum() for c in import_id):
        return None
    raw = _redis().get(KEY + import_id)
    return json.loads(raw) if raw else None


def save(state: dict[str, Any]) -> None:
    _redis().set(KEY + state["id"], json.dumps(state, ensure_ascii=False), ex=KEEP_SECONDS)


def update(import_id: str, **fields: Any) -> dict[str, Any]:
    """Change some fields of a stored state (the job is the only writer while it runs)."""
    state = load(import_id) or {"id": import_id}
    state.update(fields)
    save(state)
    return state


def create(user_id: str, user_name: str, filename: str, data: bytes, organization: Optional[str], update_: bool,
           create_organizations: bool) -> dict[str, Any]:
    """Store an uploaded file and a new import's state, and queue its preview."""
    directory = storage_dir()
    if directory is None:
        raise tk.ValidationError({"file": [tk._("Uploads are not configured on this portal (ckan.storage_path)")]})
    import_id = secrets.token_hex(12)
    suffix = "".join(c for c in os.path.splitext(filename)[1][:8] if c.isalnum() or c == ".")
    (directory / f"{import_id}{suffix}").write_bytes(data)
    state = {"id": import_id, "user_id": user_id, "user": user_name, "filename": filename[:200],
             "path": f"{import_id}{suffix}", "organization": organization, "update": update_,
             "create_organizations": create_organizations, "phase": PREVIEW, "state": QUEUED, "done": 0,
             "total": 0, "created": time.time(), "report": None, "error": None}
    save(state)
    enqueue(state)
    return state


def enqueue(state: dict[str, Any]) -> None:
    """Put the state's current phase on CKAN's job queue."""
    tk.enqueue_job(run, [state["id"], state["phase"]], title=f"sharing: catalogue {state['phase']} {state['id']}",
                   rq_kwargs={"timeout": JOB_TIMEOUT})


def confirm(state: dict[str, Any]) -> dict[str, Any]:
    """After a finished preview: queue the import itself."""
    state = update(state["id"], phase=IMPORT, state=QUEUED, done=0, total=0, preview=state.get("report"),
                   report=None)
    enqueue(state)
    return state


def run(import_id: str, phase: str) -> None:
    """The job: the preview (dry run) or the import of a stored file, as the user who uploaded it, with its
    progress written to the state; a failure is stored (and logged with its traceback), never lost."""
    from ckanext.sharing import config
    from ckanext.sharing.catalogue.transfer import importer

    state = load(import_id)
    if state is None or state.get("phase") != phase:
        log.warning("catalogue import %s: no state for phase %s", import_id, phase)
        return
    update(import_id, state=RUNNING, started=time.time())
    directory = storage_dir()
    try:
        assert directory is not None
        data = (directory / state["path"]).read_bytes()
        options = importer.Options(organization=state.get("organization"), dry_run=phase == PREVIEW,
                                   update=bool(state.get("update")),
                                   create_organizations=bool(state.get("create_organizations")),
                                   user=state["user"], max_rows=config.catalogue_import_max_rows())
        report = importer.run(data, state["filename"], options,
                              progress=lambda done, total: update(import_id, done=done, total=total))
        update(import_id, state=DONE, report=report.to_dict(), finished=time.time())
        if phase == IMPORT:
            (directory / state["path"]).unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 — the page shows the failure instead of a job lost in a log
        log.exception("catalogue import %s (%s) failed", import_id, phase)
        update(import_id, state=FAILED, error=type(exc).__name__)
