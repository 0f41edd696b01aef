"""/openapi.json describes exactly the routes the server has."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


async def test_openapi_lists_every_route_and_nothing_else(api: Api) -> None:
    doc = await api.ok("GET", "/openapi.json")
    assert doc["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    registered = {
        (r.method, r.resource.canonical)
        for r in api.client.app.router.routes()
        if r.resource is not None
    }
    assert registered == documented
    for path in ("/api/login", "/api/agent/ws", "/api/chat/{id}/ws", "/metrics", "/healthz"):
        assert path in doc["paths"]


async def test_openapi_is_consistent(api: Api) -> None:
    doc = await api.ok("GET", "/openapi.json")
    schemas = doc["components"]["schemas"]
    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas, ref
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert op["responses"], path
            params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert params == {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}
    login = doc["paths"]["/api/login"]["post"]
    body = login["requestBody"]["content"]["application/json"]["schema"]
    assert schemas[body["$ref"].rsplit("/", 1)[1]]["additionalProperties"] is False
    assert doc["paths"]["/api/supervisor/queues"]["get"]["x-access"] == "supervisor"


async def test_the_values_the_server_accepts_are_published(api: Api) -> None:
    """Where the server takes only the center's own values, the document says which."""
    doc = await api.ok("GET", "/openapi.json")
    schemas = doc["components"]["schemas"]
    center = api.engine.center

    def enum(model: str, field: str) -> list[str]:
        prop = schemas[model]["properties"][field]
        (found,) = [b["enum"] for b in prop.get("anyOf", [prop]) if "enum" in b]
        return list(found)

    assert enum("StartChatBody", "topic") == list(center.settings.chat_topics)
    assert enum("TierBody", "tier") == sorted(center.tiers)
    assert enum("AgentStateBody", "reason") == list(center.settings.away_reasons)
    assert enum("WrapUpBody", "disposition") == list(center.all_dispositions)
    assert enum("TransferBody", "to_queue") == sorted(center.queues)
    quick = doc["paths"]["/api/agent/quick-connect"]["get"]
    assert quick["parameters"][0]["schema"]["enum"] == ["voice", "chat", "email"]
    assert "422" in quick["responses"]
    ws = doc["paths"]["/api/agent/ws"]["get"]["responses"]
    assert {"101", "400"} <= set(ws)
    # and they are what the server holds to: a topic outside the list is refused
    status, _ = await api.call("POST", "/api/chat", body={"name": "Jan", "topic": "nope"})
    assert 400 <= status < 500
