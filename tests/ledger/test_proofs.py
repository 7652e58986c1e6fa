"""Inclusion proofs over HTTP, checked offline; auditors read the whole ledger; the public key
endpoint (SPEC §5)."""
from __future__ import annotations

import base64
import json

import pytest

from ckanext.sharing.cli import sharing as sharing_cli

from tests.ledger.support import signing_key  # noqa: F401 - a fixture
from tests.workflow.support import PLUGINS, api, api_get, build_world, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _row_of(app, w, event: str) -> dict:
    """The newest ledger row of one event, as a sysadmin lists it."""
    resp = app.get("/api/3/action/sharing_audit_list", query_string={"action": event},
                   headers={"Authorization": w.tokens["sysadmin"]})
    return resp.json["result"]["results"][0]


def _verify_proof(cli, tmp_path, doc: dict, *extra: str):
    path = tmp_path / f"proof-{doc['id']}-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return cli.invoke(sharing_cli, ["audit", "verify-proof", str(path), *extra])


def test_requester_proves_their_request_was_recorded(app, cli, tmp_path, signing_key, ckan_config, monkeypatch):
    """The requester's proof verifies offline with the published key, against a stored checkpoint
    and against the signed current head; a changed byte in the leaf or the proof fails."""
    w = build_world(app)
    api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))
    row = _row_of(app, w, "request_create")
    res = cli.invoke(sharing_cli, ["audit", "checkpoint", "--dir", str(tmp_path / "cps")])
    assert res.exit_code == 0, res.output
    monkeypatch.setitem(ckan_config, "ckanext.sharing.audit_signing_key", "")  # the requester's side: no key
    doc = api_get(app, "sharing_audit_proof", w.tokens["requester"], id=row["id"])["result"]
    assert doc["checkpoint"] and doc["tree_size"] == doc["leaf_index"] + 1
    assert json.loads(doc["leaf"])[2] == row["id"] and row["request_id"] in doc["leaf"]
    published = app.get("/api/3/sharing/audit-key", status=404)  # the key is not configured now
    monkeypatch.setitem(ckan_config, "ckanext.sharing.audit_signing_key", str(tmp_path / "audit.key"))
    published = app.get("/api/3/sharing/audit-key").json["result"]["verifier_key"]
    assert published == str(signing_key.verifier())
    ok = _verify_proof(cli, tmp_path, doc, "--key", published)
    assert ok.exit_code == 0, ok.output
    assert "proof verifies" in ok.output and f"leaf {doc['leaf_index']} of the tree of" in ok.output
    # a later row, not yet in any stored checkpoint: proven against the current head, signed on demand
    api(app, "sharing_request_withdraw", w.tokens["requester"], id=row["request_id"])
    later = _row_of(app, w, "request_withdraw")
    doc2 = api_get(app, "sharing_audit_proof", w.tokens["requester"], id=later["id"])["result"]
    assert doc2["tree_size"] > doc["tree_size"]
    assert _verify_proof(cli, tmp_path, doc2, "--key", published).exit_code == 0
    # one changed byte anywhere fails
    tampered_leaf = dict(doc, leaf=doc["leaf"].replace("request_create", "request_cancel"))
    assert _verify_proof(cli, tmp_path, tampered_leaf, "--key", published).exit_code == 1
    first = base64.b64decode(doc2["inclusion_proof"][0])
    flipped = base64.b64encode(bytes([first[0] ^ 1]) + first[1:]).decode()
    bad_proof = dict(doc2, inclusion_proof=[flipped] + doc2["inclusion_proof"][1:])
    res = _verify_proof(cli, tmp_path, bad_proof, "--key", published)
    assert res.exit_code == 1 and "NOT proven" in res.output
    bad_cp = dict(doc, checkpoint=doc["checkpoint"].replace(f"\n{doc['tree_size']}\n", f"\n{doc['tree_size'] + 1}\n"))
    res = _verify_proof(cli, tmp_path, bad_cp, "--key", published)
    assert res.exit_code == 1 and "does not verify" in res.output


def test_who_may_get_a_proof(app, signing_key):
    """Sysadmins, the organization's admins and the requester get the proof; others are refused;
    bad ids are a validation error, unknown ones not found."""
    w = build_world(app)
    api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))
    row = _row_of(app, w, "request_create")
    for role in ("sysadmin", "admin_b", "requester"):
        api_get(app, "sharing_audit_proof", w.tokens[role], id=row["id"])
    for role in ("colleague", "admin_c", "member_b", "plain"):
        api_get(app, "sharing_audit_proof", w.tokens[role], status=403, id=row["id"])
    api_get(app, "sharing_audit_proof", None, status=403, id=row["id"])
    bad = api_get(app, "sharing_audit_proof", w.tokens["sysadmin"], status=409, id="1; DROP TABLE x")
    assert "id" in bad["error"]
    api_get(app, "sharing_audit_proof", w.tokens["sysadmin"], status=404, id=row["id"] + 1000)


def test_auditors_read_everything_and_administer_nothing(app, signing_key, ckan_config, monkeypatch):
    """A user named in ckanext.sharing.auditors lists every organization's rows and the checkpoints,
    gets any row's proof, and still cannot decide a request."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    api_get(app, "sharing_audit_list", w.tokens["plain"], status=403)
    api_get(app, "sharing_audit_checkpoint_list", w.tokens["plain"], status=403)
    monkeypatch.setitem(ckan_config, "ckanext.sharing.auditors", [w.users["plain"]["name"]])
    listed = api_get(app, "sharing_audit_list", w.tokens["plain"], limit=1000)["result"]
    every = api_get(app, "sharing_audit_list", w.tokens["sysadmin"], limit=1000)["result"]
    assert listed["count"] == every["count"] > 0
    api_get(app, "sharing_audit_list", w.tokens["plain"], organization_id=w.orgs["b"]["name"])
    row = _row_of(app, w, "request_create")
    api_get(app, "sharing_audit_proof", w.tokens["plain"], id=row["id"])
    api(app, "sharing_request_approve", w.tokens["plain"], status=403, id=req["id"])
    checkpoints = api_get(app, "sharing_audit_checkpoint_list", w.tokens["plain"])["result"]
    assert checkpoints["count"] == 0  # none signed yet; the call is allowed
