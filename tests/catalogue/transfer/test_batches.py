"""The importer's batches (SPEC §10, §12): one transaction per batch with a savepoint per row, the ledger rows
appended at the batch's commit, URL names chosen before writing, forked writers, the importing user as
``current_user`` while rows are written."""
from __future__ import annotations

import flask
import pytest
import sqlalchemy as sa

from ckan import model
from ckan.tests import factories, helpers

from ckanext.sharing.catalogue import naming
from ckanext.sharing.catalogue import validators as catalogue_validators
from ckanext.sharing.catalogue.transfer import importer
from ckanext.sharing.ledger import chain, events
from ckanext.sharing.model import SharingAudit

from tests.catalogue.transfer.test_import import PLUGINS, csv_bytes, org, outcomes, row, run  # noqa: F401 (org: fixture)


def tier_rows() -> list[str]:
    """Package ids of the ledger's tier-change rows, in chain order."""
    return [pid for (pid,) in model.Session.query(SharingAudit.package_id)
            .filter(SharingAudit.action == events.TIER_CHANGE).order_by(SharingAudit.id)]


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index", "with_request_context")
class TestBatches:
    def test_a_refused_row_undoes_only_itself(self, org):
        """In one batch a row refused by the schema leaves the rows before and after it, and only theirs
        are in the ledger (one tier-change row each, the chain intact)."""
        report = run(csv_bytes([row(1), row(2, 发布日期="2023-02-30"), row(3), row(4, 共享类型="有条件共享"), row(5)]))
        assert outcomes(report) == ["created", "refused", "created", "refused", "created"], report.table()
        created = [r.dataset_id for r in report.rows if r.outcome == "created"]
        assert sorted(tier_rows()) == sorted(created)
        assert model.Session.query(model.Package).filter_by(state="active").count() == 3
        ok, checked, problems = chain.verify()
        assert ok and not problems, problems
        assert all(r.name for r in report.rows if r.outcome == "created")

    def test_dry_run_batch_leaves_no_ledger_rows(self, org):
        """A dry run of a batch reports created rows but stores neither datasets nor ledger rows."""
        report = run(csv_bytes([row(1), row(2)]), dry_run=True)
        assert outcomes(report) == ["created", "created"]
        assert tier_rows() == []
        assert model.Session.query(model.Package).count() == 0

    def test_names_are_chosen_before_writing(self, org):
        """Rows of one title get the name, -2, -3 … after the names already stored, as the form would."""
        helpers.call_action("package_create", {"user": importer.site_user()}, **{
            "name": "ce-shi-zi-yuan", "title": "别的", "owner_org": org["id"], "res_code": "101001001/000099",
            "res_class": "1", "format_category": "电子文件", "sharing_tier": "open", "notes": "x",
            "share_method": ["文件下载"], "update_cycle": "每年", "publish_date": "2024-01-01"})
        rows = [row(n, 信息资源名称="测试资源") for n in (1, 2, 3)]
        rows = [dict(r, 信息资源代码=f"101001001/{n:06d}") for n, r in zip((1, 2, 3), rows)]
        report = run(csv_bytes(rows))
        assert outcomes(report) == ["created"] * 3, report.table()
        assert [r.name for r in report.rows] == ["ce-shi-zi-yuan-2", "ce-shi-zi-yuan-3", "ce-shi-zi-yuan-4"]

    def test_forked_writers_keep_one_chain_and_index_every_row(self, org, monkeypatch):
        """Two forked writer processes with small batches create every row, each indexed once, and the
        ledger is one intact chain with one tier-change row per dataset."""
        monkeypatch.setattr(importer, "CHUNK_ROWS", 3)
        report = run(csv_bytes([row(n) for n in range(1, 11)]), workers=2)
        assert outcomes(report) == ["created"] * 10, report.table()
        assert len(set(tier_rows())) == len(tier_rows()) == 10
        ok, _, problems = chain.verify()
        assert ok and not problems, problems
        found = helpers.call_action("package_search", q="*:*", fq=f"owner_org:{org['id']}", rows=0)
        assert found["count"] == 10

    def test_the_importing_user_is_current_user_while_writing(self, org):
        """``acting_as`` makes the importing user flask-login's current user and restores the previous one."""
        import flask_login

        user = factories.Sysadmin()
        before = flask.g.get("_login_user")
        with importer.acting_as(user["name"]):
            assert flask_login.current_user.name == user["name"]
        assert flask.g.get("_login_user") is before

    def test_one_transaction_rolls_back_a_failed_batch(self, org):
        """An error escaping a batch rolls back all of its rows, committed savepoints included."""
        with pytest.raises(RuntimeError):
            with importer.one_transaction(commit=True):
                model.Session.execute(sa.text("UPDATE \"group\" SET title = 'changed' WHERE id = :id"),
                                      {"id": org["id"]})
                model.Session.commit()  # only the savepoint
                raise RuntimeError("boom")
        assert model.Session.query(model.Group.title).filter_by(id=org["id"]).scalar() == "示范局"


@pytest.mark.usefixtures("clean_db")
def test_unique_name_skips_every_taken_suffix():
    """unique_name gives the first free of base, base-2 … (other names sharing the prefix do not count)."""
    for name in ("abc", "abc-2", "abc-3", "abc_x", "abcd"):
        factories.Dataset(name=name)
    assert naming.unique_name("abc") == "abc-4"
    assert naming.unique_name("abc_x") == "abc_x-2"
    assert naming.unique_name("ab") == "ab"
    mine = model.Package.get("abc-2")
    assert naming.unique_name("abc-2", exclude_id=mine.id) == "abc-2"


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_acting_as_in_an_application_context_only(app):
    """With only an application context (the CLI, the job worker) acting_as pushes a request context for the
    batch with the importing user as current user, and pops it after."""
    import flask_login

    user = factories.Sysadmin()
    with app.flask_app.app_context():
        assert not flask.has_request_context()
        with importer.acting_as(user["name"]):
            assert flask.has_request_context() and flask_login.current_user.name == user["name"]
        assert not flask.has_request_context()


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_acting_as_in_a_ckan_command_without_a_flask_context(app):
    """CKAN's CLI (and `ckan jobs worker`) pushes no Flask context and keeps its app in the click context:
    acting_as pushes a request context of that app with the importing user as current user."""
    import click
    import flask_login

    user = factories.Sysadmin()
    assert not flask.has_app_context()
    command = click.Context(click.Command("import"))
    command.meta["flask_app"] = app.flask_app
    with command:
        with importer.acting_as(user["name"]):
            assert flask.has_request_context() and flask_login.current_user.name == user["name"]
            assert importer._auth_user(user["name"])["auth_user_obj"].name == user["name"]
    assert not flask.has_request_context()


def _dataset(org: dict, code: str, title: str) -> dict:
    return {"title": title, "owner_org": org["id"], "res_code": code, "res_class": "1", "format_category": "电子文件",
            "sharing_tier": "open", "notes": "x", "share_method": ["文件下载"], "update_cycle": "每年",
            "publish_date": "2024-01-01"}


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index", "with_request_context")
def test_a_batch_checks_its_codes_once_and_answers_as_the_query_would(org):
    """Inside a batch that holds its codes, the resource-code check takes no lock and runs no query per row,
    refuses a code a stored dataset has (naming it), and after a row of the batch took a code checks that
    code anew, so the next row with it is refused."""
    from ckan.logic import ValidationError

    user = importer.site_user()
    taken = helpers.call_action("package_create", {"user": user}, name="yi-you", **_dataset(org, "101001001/000001", "已有"))
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with importer.one_transaction(commit=False, res_codes=["101001001/000001", "101001001/000002"]):
        sa.event.listen(model.meta.engine, "before_cursor_execute", seen)
        try:
            with pytest.raises(ValidationError) as refused:
                helpers.call_action("package_create", {"user": user}, name="xin-1",
                                    **_dataset(org, "101001001/000001", "新一"))
            model.Session.rollback()
            created = helpers.call_action("package_create", {"user": user, "return_id_only": True}, name="xin-2",
                                          **_dataset(org, "101001001/000002", "新二"))
            assert not [s for s in statements if "hashtext" in s or "res_code" in s], statements
            catalogue_validators.release_res_code("101001001/000002", created)
            with pytest.raises(ValidationError) as again:
                helpers.call_action("package_create", {"user": user}, name="xin-3",
                                    **_dataset(org, "101001001/000002", "新三"))
            model.Session.rollback()
        finally:
            sa.event.remove(model.meta.engine, "before_cursor_execute", seen)
    assert taken["name"] in str(refused.value.error_dict["res_code"])
    assert "xin-2" in str(again.value.error_dict["res_code"])
    assert any("hashtext" in s for s in statements)  # the released code was locked and read again
