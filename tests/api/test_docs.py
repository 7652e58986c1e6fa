"""help_show and the OpenAPI description of the sharing_* actions (issue 12): every action documents every
parameter of its schema, its result, its errors and its SPEC section; /api/3/sharing/openapi.json is valid
OpenAPI 3.1 generated from the same docstrings and schemas."""
from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from ckanext.sharing.api import docs

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "activity datastore datatables_view sharing"),
    pytest.mark.usefixtures("with_plugins"),
]


def test_help_show_documents_every_sharing_action(app):
    """help_show of every registered sharing_* action documents each schema parameter, the result, the errors
    and the SPEC section."""
    actions = docs.sharing_actions()
    assert len(actions) >= 12
    problems = {}
    for name, fn in actions.items():
        text = app.get("/api/3/action/help_show", query_string={"name": name}).json["result"]
        assert text == fn.__doc__, name
        doc = docs.parse(name, fn)
        missing = docs.undocumented(doc)
        missing += [] if ":raises:" in text else [":raises:"]
        missing += [] if "SPEC: §" in text else ["SPEC section"]
        if missing:
            problems[name] = missing
    assert problems == {}


def test_undocumented_parameter_is_reported():
    """The check finds a schema parameter without :param (so the test above can fail)."""
    from ckan.logic import validate as ckan_validate

    @ckan_validate(lambda: {"id": [], "secret": []})
    def sharing_fake(context, data_dict):
        """Do something.

        :param id: the id
        :returns: nothing
        """

    assert docs.undocumented(docs.parse("sharing_fake", sharing_fake)) == [":param secret:"]


def test_openapi_is_valid_and_generated_from_the_actions(app):
    """/api/3/sharing/openapi.json is valid OpenAPI 3.1 with one path per sharing_* action, its parameters,
    their types and required flags from the schema."""
    spec = app.get("/api/3/sharing/openapi.json", status=200).json
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    actions = docs.sharing_actions()
    assert set(spec["paths"]) == {f"/api/3/action/{name}" for name in actions}
    create = spec["paths"]["/api/3/action/sharing_request_create"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert {"package_id", "purpose", "use_scenario"} <= set(body["required"])
    assert body["properties"]["resource_ids"]["type"] == "array"
    assert body["properties"]["requested_days"]["type"] == "integer"
    assert "get" not in spec["paths"]["/api/3/action/sharing_request_create"]
    listing = spec["paths"]["/api/3/action/sharing_request_list"]["get"]
    state = next(p for p in listing["parameters"] if p["name"] == "state")
    assert "pending" in state["schema"]["enum"]
    for name, fn in actions.items():
        op = spec["paths"][f"/api/3/action/{name}"]["post"]
        assert op["summary"] == docs.parse(name, fn).summary, name
