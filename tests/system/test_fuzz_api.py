"""Hostile input through every write operation of the API, found from its OpenAPI schema.

For each POST, PUT and PATCH the walk sends a valid body (a stored row's representation, cut
to the fields the operation takes) with one field, at any depth, replaced by a hostile value;
DELETE and actions get ids that are not numbers. A 400 must name the field; an accepted write
must show on the API detail, the dashboard, the calendar feed and the CSV export.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.support.fuzzing import (
    HOSTILE_JSON,
    Finding,
    Tally,
    World,
    build_world,
    check_display,
    display_urls,
    full_walk,
    print_report,
    rolled_back,
    row_counts,
    sample,
    server_error,
)

pytestmark = pytest.mark.slow  # started first in the parallel pass (tests/conftest.py)

INTERFACE = "api"

#: Server errors explained by an open class of issue 11, by their signature; none is open.
KNOWN: dict[int, Callable[[Finding], bool]] = {}


def write_operations() -> list[tuple[str, str, dict[str, Any]]]:
    """Return (method, path, request body schema) of every write the schema documents."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(components[node["$ref"].rsplit("/", 1)[-1]])
            if "allOf" in node and len(node["allOf"]) == 1:
                return resolve(node["allOf"][0])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    ops = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            if method in ("post", "put", "patch", "delete"):
                body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
                ops.append((method, path, resolve(body.get("schema", {}))))
    return ops


def field_paths(schema: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple]:
    """Yield the path of every property, nested objects' properties included."""
    for name, prop in schema.get("properties", {}).items():
        if prop.get("readOnly"):
            continue
        yield (*prefix, name)
        if prop.get("type") == "object" and "properties" in prop:
            yield from field_paths(prop, (*prefix, name))


def shape(value: Any, schema: dict[str, Any]) -> Any:
    """Cut a representation down to the properties the request schema takes."""
    if not isinstance(value, dict) or "properties" not in schema:
        return value
    return {k: shape(v, schema["properties"][k]) for k, v in value.items()
            if k in schema["properties"] and not schema["properties"][k].get("readOnly")}


def with_value(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    node = out
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value
    return out


def names_field(answer: Any, path: tuple[str, ...]) -> bool:
    """Return whether a 400's body names the field at ``path`` or an object enclosing it.

    An error on an enclosing object is about the field too: a deadline rule or an evidence
    is refused as a whole when a part it needs is missing.
    """
    node = answer
    for depth, part in enumerate(path):
        if not isinstance(node, dict) or part not in node:
            return depth > 0
        node = node[part]
    return True


class ApiWalk:
    def __init__(self, world: World, tally: Tally, full: bool) -> None:
        self.world, self.tally, self.full = world, tally, full
        self.client = APIClient(raise_request_exception=False)
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {world.token_key}")
        self.pages = APIClient(raise_request_exception=False)
        self.pages.force_login(world.admin)

    def send(self, method: str, url: str, body: str | None) -> Any:
        cache.clear()  # the throttles count in the cache; the walk is not a client to slow down
        return self.client.generic(method.upper(), url, body or "",
                                   content_type="application/json")

    def answer(self, request: str, response: Any) -> bool:
        self.tally.count(INTERFACE, "requests")
        if response.status_code >= 500:
            self.tally.count(INTERFACE, "5xx")
            self.tally.find(INTERFACE, request, server_error(response))
            return False
        return True

    def instance_url(self, path: str) -> str | None:
        """Return ``path`` with ``{id}`` set to a row of the caller's that it may write."""
        if "{id}" not in path:
            return path
        listing = self.client.get(path.split("{id}")[0])
        rows = listing.json().get("results", []) if listing.status_code == 200 else []
        return path.replace("{id}", str(rows[0]["id"])) if rows else None

    def baseline(self, method: str, path: str, schema: dict[str, Any]) -> dict[str, Any]:
        """Return a body the operation accepts: a stored row's fields (a new key for a POST)."""
        if method == "patch" or "properties" not in schema:
            return {}
        listing = self.client.get(path.split("{id}")[0])
        rows = listing.json().get("results", []) if listing.status_code == 200 else []
        if not rows:
            return {}
        body = shape(rows[0], schema)
        if "key" in body:
            body["key"] = f"{body['key']}-fz"
        return body

    def submit(self, method: str, url: str, body: str, request: str,
               path: tuple[str, ...] | None, check_naming: bool) -> None:
        before = row_counts()
        with rolled_back():
            response = self.send(method, url, body)
            if not self.answer(request, response):
                return
            if response.status_code < 300:
                self.tally.count(INTERFACE, "accepted")
                check_display(self.pages, [*display_urls(self.world),
                                           *self.detail_url(url, response)],
                              self.tally, INTERFACE, request)
                return
            self.tally.count(INTERFACE, "refused")
            if row_counts() != before:
                self.tally.find(INTERFACE, request, "refused, but rows were written")
            if check_naming and path and response.status_code == 400:
                answer = response.json()
                if not names_field(answer, path):
                    self.tally.find(INTERFACE, request,
                                    f"400 does not name {'.'.join(path)}: {str(answer)[:200]}")

    @staticmethod
    def detail_url(url: str, response: Any) -> list[str]:
        """Return the API detail of the row a write made or changed (none for a delete)."""
        match = re.match(r"^(/api/v1/[\w-]+/)(\d+/)?", url)
        if match is None or response.status_code == 204:
            return []
        if match[2]:
            return [match[1] + match[2]]
        made = response.json().get("id") if response.content else None
        return [f"{match[1]}{made}/"] if made else []

    def operation(self, method: str, path: str, schema: dict[str, Any]) -> None:
        url = self.instance_url(path)
        if url is None:
            return
        label = f"{method.upper()} {path}"
        if "{id}" in path:
            for bad in sample(("abc", "²", "999999999", "-1", "1e30"), label, full=self.full):
                self.submit(method, path.replace("{id}", bad), "{}", f"{label} id={bad!r}",
                            None, check_naming=False)
        if method == "delete":
            return
        base = self.baseline(method, path, schema)
        with rolled_back():
            baseline_ok = self.send(method, url, json.dumps(base)).status_code < 300
        for field in field_paths(schema):
            for value in sample(HOSTILE_JSON, f"{label}.{'.'.join(field)}", full=self.full):
                body = json.dumps(with_value(base, field, value))
                request = f"{label} {'.'.join(field)}={str(value)[:20]!r}"
                self.submit(method, url, body, request, field,
                            check_naming=baseline_ok or method == "patch")
        for raw, what in (("[" * 100_000, "nested 100,000 deep"), ("{", "truncated"),
                          ('{"a": NaN}', "NaN"), ('"\\ud800"', "a lone surrogate")):
            self.submit(method, url, raw, f"{label} body {what}", None, check_naming=False)


OPERATIONS = [pytest.param(m, p, s, id=f"{m.upper()} {p}") for m, p, s in write_operations()]


@pytest.fixture
def world(db: None, django_user_model: Any) -> World:
    return build_world(django_user_model)


def _walk(world: World, operations: list[tuple[str, str, dict]], full: bool) -> None:
    tally = Tally()
    walk = ApiWalk(world, tally, full)
    for method, path, schema in operations:
        walk.operation(method, path, schema)
    title = "api " + ", ".join(f"{m.upper()} {p}" for m, p, _s in operations)
    print_report(tally, title, KNOWN)
    problems = tally.unexplained(KNOWN)
    assert not problems, "\n".join(map(str, problems[:40]))


@pytest.mark.parametrize(("method", "path", "schema"), OPERATIONS)
def test_api_writes_refuse_hostile_values_by_field(world, method, path, schema, pytestconfig):
    """No 5xx, a 400 names the field, nothing written on refusal, accepted data displays."""
    _walk(world, [(method, path, schema)], full_walk(pytestconfig))


@pytest.mark.fuzz_full
def test_api_full_walk(world, pytestconfig):
    """Every value on every field of every write (``pytest -m fuzz_full``)."""
    _walk(world, write_operations(), full=True)
