"""SolrCloud (SPEC §8): search and masking stay right on a 2-shard × 2-replica collection while a node is down.

Runs only with ``SOLR_MODE=cloud`` (``SOLR_MODE=cloud TEST_SLOT=<slot> make test``): the slot's collection
lives on the local SolrCloud that bin/stack starts (2 nodes, embedded ZooKeeper). The world is the conformance
world (one dataset per tier, users of every role); the checks are the conformance surfaces that read the index.
"""
from __future__ import annotations

import json

import pytest
import requests

from ckan.common import config

from ckanext.sharing.dev import conformance as cf
from tests import solrcloud
from tests.access.test_conformance import PLUGINS, world  # noqa: F401  (the conformance world, built per module)

pytestmark = pytest.mark.skipif(not solrcloud.enabled(), reason=solrcloud.SKIP_REASON)

#: The surfaces that read Solr: package_search (every variant of SEARCH_VARIANTS), the raw Solr document
#: and package_show (which must agree with search).
SURFACES = ("package_search", "search_index", "package_show")


def _failures(world: cf.World) -> list[str]:
    return [f"[{r.role} × {r.tier} × {r.surface}] expected {r.expected}: {r.message}"
            for r in cf.run_cells(world, cf.ROLES, cf.TIERS, SURFACES) if not r.ok]


def _search(world: cf.World, role: str, **params) -> dict:
    resp = world.get(role, "/api/3/action/package_search", query_string={"include_private": "true", **params})
    assert resp.status_code == 200, resp.body[:300]
    return resp.json["result"]


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins")
def test_search_and_masking_survive_a_node_outage(world: cf.World) -> None:
    """Every role × tier of search, index and show is right before, during and after one node's outage."""
    solr_url = config["solr_url"]
    state = solrcloud.status()
    entry = solrcloud.node_of_url(solr_url, state)  # the node CKAN sends its requests to stays up
    victim = next(n for n in state["nodes"] if n["node"] != entry and n["running"])
    shards = solrcloud.replicas(solr_url)
    assert len(shards) == 2 and all(len(r) == 2 for r in shards.values()), shards
    # Each shard has a copy on the victim and one elsewhere: the outage takes away half of every shard.
    for name, copies in shards.items():
        assert sorted(r["node_name"] == victim["name"] for r in copies) == [False, True], (name, copies)
    conditional = world.pkgs["conditional"]["id"]
    secret = world.secrets("conditional")["link"]

    assert not _failures(world)

    with solrcloud.node_stopped(victim["node"]) as down:
        assert not next(n for n in down["nodes"] if n["node"] == victim["node"])["running"]
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{victim['port']}/solr/admin/info/system", timeout=5)
        assert {r["state"] for copies in solrcloud.replicas(solr_url).values() for r in copies
                if r["node_name"] == victim["name"]} <= {"down", "recovering"}
        assert not _failures(world)

        # A write while the node is down goes to the surviving copies, masked as ever.
        marker = f"outage{world.run}"
        world.api("sysadmin", "package_patch", 200, id=conditional, notes=f"patched during {marker}")
        found = _search(world, "anonymous", q=f"notes:{marker}")
        assert [p["id"] for p in found["results"]] == [conditional]
        cf.assert_masked_pkg(world, "conditional", found["results"][0])
        assert _search(world, "anonymous", q=f'"{secret}"')["count"] == 0
        assert not _failures(world)

    # Back: every copy is active again, and the victim's own cores caught up with the write, still masked.
    copies = [r for rs in solrcloud.replicas(solr_url).values() for r in rs]
    assert {r["state"] for r in copies} == {"active"}
    holding = []
    for replica in (r for r in copies if r["node_name"] == victim["name"]):
        docs = solrcloud.core_select(replica, q=f"id:{conditional}", fl="*")["docs"]
        cf.assert_no_leak(world, "conditional", json.dumps(docs, ensure_ascii=False), replica["core"])
        holding += [d for d in docs if marker in d.get("notes", "")]
    assert len(holding) == 1, "the restarted node's copy of the dataset's shard holds the write made while it was down"
    assert not _failures(world)


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins")
def test_updates_of_indexed_datasets_reach_every_replica(world: cf.World) -> None:
    """Datasets updated after they were committed to the index stay on every replica (none goes into recovery)."""
    solr_url = config["solr_url"]
    ids = [world.pkgs[tier]["id"] for tier in cf.TIERS]
    marker = f"again{world.run}"
    for round_no in range(3):  # each update re-sends a document the index already holds: replicas look up its version
        for pkg_id in ids:
            world.api("sysadmin", "package_patch", 200, id=pkg_id, notes=f"{marker} round {round_no}")
    copies = [r for rs in solrcloud.replicas(solr_url).values() for r in rs]
    assert {r["state"] for r in copies} == {"active"}, copies
    for pkg_id in ids:  # each shard's two copies hold the last update
        holders = [r["core"] for r in copies
                   if any(d.get("notes") == f"{marker} round 2"
                          for d in solrcloud.core_select(r, q=f"id:{pkg_id}", fl="id notes")["docs"])]
        assert len(holders) == 2, (pkg_id, holders)
    assert not _failures(world)
