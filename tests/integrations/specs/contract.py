"""Checks the requests a client made, and our fixtures, against the vendor's own specification.

Two kinds of source (see README.md):
- a published OpenAPI document kept here (``OpenApi``): the request must match an operation by
  method and path, send its required parameters and headers, no query parameter the operation
  does not declare (an unknown one is ignored by the vendor: how the PandaDoc filter failed),
  and a body valid against the operation's schema; a fixture must validate against the answer;
- the vendor's official SDK: its request and response types are the specification
  (``typed_dict_errors``, ``sdk_request``).
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_type_hints

import httpx
import jsonschema
import respx

SPECS = Path(__file__).parent


def _openapi30_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` and boolean exclusive bounds, as JSON Schema 2020-12 says them."""
    if isinstance(node, list):
        return [_openapi30_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: _openapi30_to_json_schema(v) for k, v in node.items()}
    for bound in ("exclusiveMinimum", "exclusiveMaximum"):
        if isinstance(node.get(bound), bool):
            node.pop(bound)
    if node.pop("nullable", False) is True:
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def schema_errors(instance: Any, schema: Mapping[str, Any], *, root: Mapping[str, Any] | None = None) -> list[str]:
    """Every way ``instance`` breaks ``schema`` (refs resolve against ``root``), as readable lines."""
    whole = {**(root or {}), **schema}
    validator = jsonschema.Draft202012Validator(whole)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]
    parameters: tuple[dict[str, Any], ...]


class OpenApi:
    def __init__(self, document: dict[str, Any], *, base_url: str) -> None:
        version = str(document.get("openapi", ""))
        self.document = _openapi30_to_json_schema(document) if version.startswith("3.0") else copy.deepcopy(document)
        self.base_url = base_url.rstrip("/")

    @classmethod
    def load(cls, name: str, *, base_url: str) -> OpenApi:
        return cls(json.loads((SPECS / name).read_text()), base_url=base_url)

    def operation(self, method: str, url: str) -> Operation:
        assert url.startswith(self.base_url), f"{url} is not under {self.base_url}"
        path = url[len(self.base_url) :].split("?", 1)[0] or "/"
        for template, item in self.document["paths"].items():
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(pattern, path) and method.lower() in item:
                parameters = {(p["name"], p["in"]): p for p in item.get("parameters", [])}
                parameters |= {(p["name"], p["in"]): p for p in item[method.lower()].get("parameters", [])}
                return Operation(method.upper(), template, item[method.lower()], tuple(parameters.values()))
        raise AssertionError(f"{method} {path}: no such operation in the vendor's specification")

    def request_errors(self, request: httpx.Request, *, ignore_headers: Iterable[str] = ()) -> list[str]:
        """What in ``request`` the specification does not allow (empty when it agrees)."""
        try:
            operation = self.operation(request.method, str(request.url))
        except AssertionError as exc:
            return [str(exc)]
        errors: list[str] = []
        query = request.url.params
        declared_query = {p["name"] for p in operation.parameters if p["in"] == "query"}
        for parameter in operation.parameters:
            name, where = parameter["name"], parameter["in"]
            if not parameter.get("required"):
                continue
            if where == "query" and name not in query:
                errors.append(f"query parameter {name!r} is required")
            if where == "header" and name.lower() not in {*request.headers.keys(), *ignore_headers}:
                errors.append(f"header {name!r} is required")
        for name in query:
            if name not in declared_query and name not in self._security_query():
                errors.append(f"query parameter {name!r} is not one the operation takes")
            schema = next(
                (p.get("schema") for p in operation.parameters if p["name"] == name and p["in"] == "query"), None
            )
            if (
                schema
                and "enum" in schema
                and query[name] not in [str(v).lower() if isinstance(v, bool) else str(v) for v in schema["enum"]]
            ):
                errors.append(f"query parameter {name!r}={query[name]!r} is not one of {schema['enum']}")
        errors += self._body_errors(operation, request)
        return errors

    def _security_query(self) -> set[str]:
        schemes = self.document.get("components", {}).get("securitySchemes", {}).values()
        return {s["name"] for s in schemes if s.get("type") == "apiKey" and s.get("in") == "query"}

    def _body_errors(self, operation: Operation, request: httpx.Request) -> list[str]:
        declared = operation.spec.get("requestBody")
        if not request.content:
            return ["a request body is required"] if declared and declared.get("required") else []
        if declared is None:
            return ["the operation takes no request body"]
        content_type = request.headers.get("content-type", "").split(";")[0]
        media = declared.get("content", {})
        if content_type == "application/json":
            schema = (media.get("application/json") or media.get("*/*") or {}).get("schema")
            if schema is None:
                return [f"the operation takes no JSON body (it takes {sorted(media)})"]
            return [f"body {e}" for e in schema_errors(json.loads(request.content), schema, root=self.document)]
        if content_type not in media:
            return [f"the operation takes no {content_type} body (it takes {sorted(media)})"]
        return []

    def response_errors(self, method: str, url: str, status: int, body: Any) -> list[str]:
        operation = self.operation(method, url)
        responses = operation.spec.get("responses", {})
        answer = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        if answer is None:
            return [f"{status} is not an answer of {operation.method} {operation.path}"]
        schema = (answer.get("content", {}).get("application/json") or {}).get("schema")
        return schema_errors(body, schema, root=self.document) if schema else []


def recorded_requests(router: respx.MockRouter) -> list[httpx.Request]:
    return [call.request for call in router.calls]


def typed_dict_errors(body: Mapping[str, Any], params: type, *, where: str = "body") -> list[str]:
    """Keys a Stainless-style SDK's request TypedDict does not have, or requires and we left out."""
    hints = get_type_hints(params, include_extras=True)
    required: frozenset[str] = getattr(params, "__required_keys__", frozenset())
    errors = [f"{where}: {key!r} is not a field of {params.__name__}" for key in body if key not in hints]
    errors += [f"{where}: {key!r} is required by {params.__name__}" for key in required if key not in body]
    return errors


def sdk_request(call: Callable[[], Any], *, router: respx.MockRouter, base_url: str) -> httpx.Request:
    """The request the vendor's own SDK sends for ``call``, caught by the test's ``router``."""
    seen = len(router.calls)
    router.route(url__startswith=base_url).respond(200, json={})
    with contextlib.suppress(Exception):  # the SDK may dislike our empty answer; the request is what we want
        call()
    assert len(router.calls) > seen, "the SDK sent nothing"
    return router.calls[seen].request


# Google's discovery documents (shipped in google-api-python-client, Apache-2.0): another kind of spec.


@dataclass(frozen=True)
class DiscoveryMethod:
    id: str
    spec: dict[str, Any]


class Discovery:
    """A Google API's discovery document: methods by URL, their parameters, and their schemas."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.base = document["rootUrl"] + document["servicePath"]
        self.schemas: dict[str, Any] = document.get("schemas", {})

    @classmethod
    def load(cls, api: str, version: str) -> Discovery:
        from googleapiclient import discovery_cache

        documents = Path(discovery_cache.__file__).parent / "documents"
        return cls(json.loads((documents / f"{api}.{version}.json").read_text()))

    def _methods(self, node: dict[str, Any]) -> Iterable[dict[str, Any]]:
        yield from node.get("methods", {}).values()
        for resource in node.get("resources", {}).values():
            yield from self._methods(resource)

    def method(self, http_method: str, url: str) -> DiscoveryMethod:
        path = httpx.URL(url).copy_with(query=None).path
        for spec in self._methods(self.document):
            templates = [self.document["rootUrl"].rstrip("/") + "/" + self.document["servicePath"] + spec["path"]]
            upload = spec.get("mediaUpload", {}).get("protocols", {}).get("simple", {}).get("path")
            if upload:
                templates.append(self.document["rootUrl"].rstrip("/") + upload)
            for template in templates:
                template_path = httpx.URL(template.replace("{", "%7B").replace("}", "%7D")).path
                pattern = re.sub(r"\\\{\\\+[^}]+\\\}", ".+", re.escape(template_path))
                pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern) + "$"
                if spec["httpMethod"] == http_method.upper() and re.match(pattern, path):
                    return DiscoveryMethod(spec["id"], spec)
        raise AssertionError(f"{http_method} {path}: no such method in the {self.document['id']} discovery document")

    def request_errors(self, request: httpx.Request) -> list[str]:
        try:
            method = self.method(request.method, str(request.url))
        except AssertionError as exc:
            return [str(exc)]
        parameters = method.spec.get("parameters", {})
        errors = [
            f"query parameter {name!r} is required"
            for name, p in parameters.items()
            if p.get("required") and p["location"] == "query" and name not in request.url.params
        ]
        for name, value in request.url.params.multi_items():
            declared = parameters.get(name)
            if (declared is None or declared["location"] != "query") and name not in self.document.get(
                "parameters", {}
            ):
                errors.append(f"query parameter {name!r} is not one {method.id} takes")
            elif declared and "enum" in declared and value not in declared["enum"]:
                errors.append(f"query parameter {name!r}={value!r} is not one of {declared['enum']}")
        content_type = request.headers.get("content-type", "").split(";")[0]
        if request.content and content_type == "application/json":
            if "request" not in method.spec:
                return [*errors, f"{method.id} takes no request body"]
            body = json.loads(request.content)
            errors += [f"body {e}" for e in self.unknown_fields(body, method.spec["request"])]
        elif request.content and content_type.startswith("multipart/") and "mediaUpload" not in method.spec:
            errors.append(f"{method.id} takes no media upload")
        return errors

    def unknown_fields(self, value: Any, schema: Mapping[str, Any], where: str = "<root>") -> list[str]:
        """Fields of ``value`` the schema does not declare, and enum values it does not list."""
        if "$ref" in schema:
            return self.unknown_fields(value, self.schemas[schema["$ref"]], where)
        if isinstance(value, list) and "items" in schema:
            return [
                e for i, item in enumerate(value) for e in self.unknown_fields(item, schema["items"], f"{where}/{i}")
            ]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where}: {value!r} is not one of {schema['enum']}"]
        if not isinstance(value, dict) or schema.get("type") != "object":
            return []
        properties = schema.get("properties", {})
        errors: list[str] = []
        for key, item in value.items():
            if key in properties:
                errors += self.unknown_fields(item, properties[key], f"{where}/{key}")
            elif "additionalProperties" in schema:
                errors += self.unknown_fields(item, schema["additionalProperties"], f"{where}/{key}")
            else:
                errors.append(f"{where}: {key!r} is not a field of {schema.get('id', 'the schema')}")
        return errors

    def response_errors(self, http_method: str, url: str, body: Any) -> list[str]:
        method = self.method(http_method, url)
        if "response" not in method.spec:
            return [f"{method.id} answers with no body"]
        return self.unknown_fields(body, method.spec["response"])
