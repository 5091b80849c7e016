"""`dbt docs generate` works, and every model, seed, source and column is described.

The columns checked are those the warehouse really has (dbt's catalog), so a column added to a
model without a description fails here.
"""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def docs(duckdb_fixture):
    duckdb_fixture.dbt("docs", "generate")
    target = duckdb_fixture.dbt.target_dir
    return (
        json.loads((target / "manifest.json").read_text()),
        json.loads((target / "catalog.json").read_text()),
        (target / "index.html").exists(),
    )


def project_nodes(manifest: dict, *kinds: str) -> dict[str, dict]:
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in kinds and node["package_name"] == "tap_auth0_userlogs"
    }


def test_docs_site_is_generated(docs):
    _, catalog, has_index = docs
    assert has_index
    assert len(catalog["nodes"]) == 15  # 14 models and the seed, as built


def test_every_model_and_seed_is_described(docs):
    manifest, _, _ = docs
    nodes = project_nodes(manifest, "model", "seed")
    assert len(nodes) == 15
    assert [uid for uid, node in nodes.items() if not node["description"].strip()] == []


def test_every_column_the_warehouse_holds_is_described(docs):
    manifest, catalog, _ = docs
    undocumented = []
    for uid, built in catalog["nodes"].items():
        documented = {
            name.lower(): column["description"].strip()
            for name, column in manifest["nodes"][uid]["columns"].items()
        }
        undocumented += [
            f"{uid}.{name}" for name in built["columns"] if not documented.get(name.lower())
        ]
    assert undocumented == []


def test_every_source_is_described(docs):
    manifest, _, _ = docs
    sources = manifest["sources"].values()
    assert {s["name"] for s in sources} == {"user_logs", "tenant_logs", "log_event_types"}
    assert all(s["description"].strip() and s["source_description"].strip() for s in sources)
