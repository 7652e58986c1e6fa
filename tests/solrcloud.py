"""Helpers for tests on the local SolrCloud of ``SOLR_MODE=cloud`` (SPEC §8, README "SolrCloud").

``bin/stack`` starts the cloud (config/solr/runner/SolrCloudRunner.java) with a control port on 127.0.0.1
that stops and restarts single nodes; ``bin/stack solr-node stop|start N`` is the same from a shell. Stopping a
node affects every collection on the cloud (all test slots), and each call returns only once the cluster has
settled: after a stop every shard has an active leader on a live node, after a start every replica is active.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import urlsplit

import requests

SKIP_REASON = ("SolrCloud tests run only with SOLR_MODE=cloud "
               "(SOLR_MODE=cloud TEST_SLOT=<slot> make test; README 'SolrCloud')")
#: A stop or start waits for leader election or replica recovery on every collection: allow for a slow machine.
COMMAND_TIMEOUT = 300


def enabled() -> bool:
    """Whether this run uses the SolrCloud (``make test`` passes SOLR_MODE through)."""
    return os.environ.get("SOLR_MODE") == "cloud"


def control_url() -> str:
    """The runner's control port (bin/stack: SOLR_CLOUD_CONTROL_PORT, default 8999)."""
    return f"http://127.0.0.1:{os.environ.get('SOLR_CLOUD_CONTROL_PORT', '8999')}"


def status() -> dict[str, Any]:
    """The runner's view: ZooKeeper address and each node's number, port, node name and running flag."""
    resp = requests.get(f"{control_url()}/status", timeout=10)
    resp.raise_for_status()
    return resp.json()


def _command(path: str) -> dict[str, Any]:
    resp = requests.post(f"{control_url()}{path}", timeout=COMMAND_TIMEOUT)
    if resp.status_code != 200:
        raise RuntimeError(f"SolrCloud control {path}: {resp.status_code} {resp.text}")
    return resp.json()


def stop_node(node: int) -> dict[str, Any]:
    """Stop node ``node`` (1-based); returns the new status once every shard has a live leader again."""
    return _command(f"/node/{node}/stop")


def start_node(node: int) -> dict[str, Any]:
    """Start node ``node`` again on its port with its cores; returns once every replica is active."""
    return _command(f"/node/{node}/start")


@contextmanager
def node_stopped(node: int) -> Iterator[dict[str, Any]]:
    """Node ``node`` is down inside the block and started again afterwards, even when the block fails."""
    state = stop_node(node)
    try:
        yield state
    finally:
        start_node(node)


def split_url(solr_url: str) -> tuple[str, str]:
    """``http://host:port/solr/<collection>`` -> (``http://host:port/solr``, collection)."""
    base, _, collection = solr_url.rstrip("/").rpartition("/")
    return base, collection


def node_of_url(solr_url: str, state: dict[str, Any]) -> int:
    """The number of the node whose port ``solr_url`` points at (CKAN's entry node)."""
    port = urlsplit(solr_url).port
    for node in state["nodes"]:
        if node["port"] == port:
            return int(node["node"])
    raise LookupError(f"{solr_url} is not on a node of the SolrCloud {state}")


def replicas(solr_url: str) -> dict[str, list[dict[str, Any]]]:
    """Shard name -> its replicas (``node_name``, ``core``, ``base_url``, ``state``, ``leader``) from CLUSTERSTATUS."""
    base, collection = split_url(solr_url)
    resp = requests.get(f"{base}/admin/collections", timeout=30,
                        params={"action": "CLUSTERSTATUS", "collection": collection, "wt": "json"})
    resp.raise_for_status()
    shards = resp.json()["cluster"]["collections"][collection]["shards"]
    return {name: list(shard["replicas"].values()) for name, shard in shards.items()}


def core_select(replica: dict[str, Any], **params: Any) -> dict[str, Any]:
    """A query on one replica's own core only (``distrib=false``): what that copy of the index holds."""
    resp = requests.get(f"{replica['base_url']}/{replica['core']}/select", timeout=30,
                        params={"wt": "json", **params, "distrib": "false"})
    resp.raise_for_status()
    return resp.json()["response"]
