"""Every path that stores a file runs the personal-information guard (issue 10, hole 8; SPEC §6)."""
from __future__ import annotations

import io
import json

import pytest
from werkzeug.datastructures import FileStorage

import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from ckanext.sharing.catalogue.schemas import sharing_sample_record

from tests.catalogue.test_pi_guard import CLEAN_CSV, PI_CSV, PLUGINS, _dataset, people  # noqa: F401

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _revise(app, people, pkg_id, content, status):
    return app.post(
        "/api/3/action/package_revise",
        data={"match": json.dumps({"id": pkg_id}), "update__resources__-1__name": "people.csv",
              "update__resources__-1__upload": (io.BytesIO(content), "people.csv")},
        headers={"Authorization": people["tokens"][people["editor"]["name"]]},
        content_type="multipart/form-data", status=status,
    ).json


def _file(content: bytes) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename="people.csv", content_type="text/csv")


def test_package_revise_upload_is_scanned(app, people):
    """package_revise's update__resources__-1__upload with resident IDs is refused on an open dataset."""
    ds = _dataset(people, resources=[{"name": "link", "url": "http://data.example.org/link.csv"}])
    body = _revise(app, people, ds["id"], PI_CSV, 409)
    assert "upload" in body["error"] and "身份证号" in body["error"]["upload"][0]
    res = helpers.call_action("package_show", id=ds["id"])["resources"]
    assert len(res) == 1 and res[0]["url"] == "http://data.example.org/link.csv"
    _revise(app, people, ds["id"], CLEAN_CSV, 200)
    assert helpers.call_action("package_show", id=ds["id"])["resources"][0]["url_type"] == "upload"


def test_package_create_and_update_with_uploads_are_scanned(app, people):
    """package_create and package_update carrying an upload in resources are scanned too."""
    context = {"user": people["editor"]["name"], "ignore_auth": False}
    record = sharing_sample_record(owner_org=people["org"]["id"], res_code="101001001/000002")
    with pytest.raises(tk.ValidationError) as err:
        helpers.call_action("package_create", context, **dict(record, resources=[
            {"name": "people.csv", "upload": _file(PI_CSV)}]))
    assert "upload" in err.value.error_dict
    ds = _dataset(people)
    with pytest.raises(tk.ValidationError) as err:
        helpers.call_action("package_update", {"user": people["editor"]["name"]}, **dict(ds, resources=[
            {"name": "people.csv", "upload": _file(PI_CSV)}]))
    assert "upload" in err.value.error_dict
    assert helpers.call_action("package_show", id=ds["id"])["num_resources"] == 0
