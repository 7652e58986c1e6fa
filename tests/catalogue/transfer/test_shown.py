"""One dictization and one Solr request per import batch (SPEC §10, §12): what the activity and the search index
store for an imported row is what CKAN stores for it outside the batch."""
from __future__ import annotations

import json

import pytest

from ckan import model
from ckan.lib import search
from ckan.lib.search import index as search_index
from ckan.tests import helpers

from ckanext.sharing.catalogue.transfer import importer, shown

from tests.catalogue.transfer.test_import import PLUGINS, csv_bytes, org, outcomes, row, run  # noqa: F401 (org: fixture)


def solr_doc(pkg_id: str) -> dict:
    """The dataset's stored Solr document (its dicts as JSON strings), read back from Solr."""
    search.commit()
    return search.show(pkg_id)


def unordered(pkg_dict: dict) -> dict:
    """A dataset dict with its extras sorted by key (CKAN dictizes them in no set order)."""
    if isinstance(pkg_dict.get("extras"), list):
        pkg_dict["extras"] = sorted(pkg_dict["extras"], key=lambda e: e["key"])
    return pkg_dict


def activity_types(pkg_id: str) -> list[str]:
    from ckanext.activity.model import Activity

    return [a.activity_type for a in model.Session.query(Activity).filter_by(object_id=pkg_id)
            .order_by(Activity.timestamp)]


def activity_package(pkg_id: str, activity_type: str = "new package") -> dict:
    from ckanext.activity.model import Activity

    found = (model.Session.query(Activity).filter_by(object_id=pkg_id, activity_type=activity_type)
             .order_by(Activity.timestamp.desc()).first())
    return found.data["package"]


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index", "with_request_context")
class TestOneDictization:
    def test_indexed_documents_are_those_ckan_writes(self, org):
        """The batch's Solr documents (from the kept dict, sent in one request) equal the ones CKAN's own
        index_update_package writes for the same datasets afterwards, outside any batch."""
        report = run(csv_bytes([row(1), row(2, 共享类型="有条件共享", 共享条件="须说明用途"), row(3)]))
        ids = [r.dataset_id for r in report.rows if r.outcome == "created"]
        assert len(ids) >= 2, report.table()
        batch_docs = {i: solr_doc(i) for i in ids}
        for pkg_id in ids:
            from ckan import logic

            logic.index_update_package({"ignore_auth": True}, pkg_id)
            again = solr_doc(pkg_id)
            for key in ("validated_data_dict", "data_dict"):
                assert unordered(json.loads(batch_docs[pkg_id][key])) == unordered(json.loads(again[key])), key
            for key in ("permission_labels", "sharing_tier", "res_code", "title", "organization"):
                assert batch_docs[pkg_id].get(key) == again.get(key), key

    def test_activity_holds_the_shown_dataset(self, org):
        """The 'new' activity of an imported row holds what package_show returns for it (validated by the
        custom schema, after_dataset_show applied), as without the batch's kept dict."""
        report = run(csv_bytes([row(1), row(2)]))
        for result in report.rows:
            expected = helpers.call_action("package_show", {"ignore_auth": True, "for_view": False,
                                                            "use_cache": False}, id=result.dataset_id)
            assert unordered(activity_package(result.dataset_id)) == unordered(json.loads(json.dumps(expected)))

    def test_an_updated_row_is_shown_and_indexed_with_its_new_values(self, org):
        """--update moves metadata_modified on (as a form edit) and the activity and the index hold the new
        values, not the dict shown before the write."""
        first = run(csv_bytes([row(1)]))
        pkg_id = first.rows[0].dataset_id
        before = helpers.call_action("package_show", {"use_cache": False}, id=pkg_id)["metadata_modified"]
        updated = run(csv_bytes([row(1, 更新周期="每天")]), update=True)
        assert outcomes(updated) == ["updated"], updated.table()
        after = helpers.call_action("package_show", {"use_cache": False}, id=pkg_id)
        assert after["metadata_modified"] > before and after["update_cycle"] == "每日"
        assert json.loads(solr_doc(pkg_id)["validated_data_dict"])["update_cycle"] == "每日"
        assert activity_package(pkg_id, "changed package")["update_cycle"] == "每日"

    def test_update_writes_one_activity_per_updated_row_and_none_for_unchanged(self, org):
        """--update: an updated row gets one 'changed package' activity, an unchanged row none (also when
        the file is imported again)."""
        first = run(csv_bytes([row(1), row(2)]))
        changed_id, same_id = (r.dataset_id for r in first.rows)
        for _ in range(2):
            report = run(csv_bytes([row(1, 更新周期="每天"), row(2)]), update=True)
        assert outcomes(report) == ["unchanged", "unchanged"], report.table()
        assert activity_types(changed_id) == ["new package", "changed package"]
        assert activity_types(same_id) == ["new package"]

    def test_a_dataset_changed_in_the_batch_is_shown_anew(self, org):
        """A kept dict is not reused once the dataset's metadata_modified moved on (an update in the batch)."""
        first = run(csv_bytes([row(1)]))
        pkg_id = first.rows[0].dataset_id
        with shown.batch() as kept:
            before = helpers.call_action("package_show", {"ignore_auth": True}, id=pkg_id)
            assert pkg_id in kept
            helpers.call_action("package_patch", {"ignore_auth": True, "user": importer.site_user()},
                                id=pkg_id, notes="新的摘要。")
            after = helpers.call_action("package_show", {"ignore_auth": True}, id=pkg_id)
        assert before["notes"] != after["notes"] == "新的摘要。"

    def test_nothing_is_kept_outside_a_batch(self, org):
        """Outside an import batch package_show is core's: no store, every call dictizes."""
        first = run(csv_bytes([row(1)]))
        assert shown._STORE.get() is None
        shown_dict = helpers.call_action("package_show", {"ignore_auth": True}, id=first.rows[0].dataset_id)
        assert shown_dict["id"] == first.rows[0].dataset_id and shown._STORE.get() is None

    def test_index_sends_the_batch_in_one_request_and_restores_the_client(self, org):
        """index() gathers CKAN's documents and writes them together: every dataset is found after, and
        CKAN's make_connection is its own again."""
        report = run(csv_bytes([row(n) for n in range(1, 5)]))
        ids = [r.dataset_id for r in report.rows]
        search.clear_all()
        real = search_index.make_connection
        importer.index(ids)
        assert search_index.make_connection is real
        search.commit()  # the import commits once at its end
        found = helpers.call_action("package_search", q="*:*", fq=f"owner_org:{org['id']}", rows=0)
        assert found["count"] == 4
