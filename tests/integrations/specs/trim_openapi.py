"""Trim a vendor's published OpenAPI file to the operations our client uses (run by hand).

    python tests/integrations/specs/trim_openapi.py GIT_DIR COMMIT ROOT_FILE OUT.json "get /v2/users/me" ...

Reads the files at COMMIT of a local clone (``git show``), keeps the named operations and their
success answers (with their path-level parameters and the security schemes) and inlines every
``$ref``, across files too, so
the result is one self-contained document. A schema that refers to itself is cut at the second
level to ``{}`` (anything), which only loosens the check. Prose, examples and ``x-`` extensions
are dropped: they do not take part in validation. See README.md for the sources.
"""

from __future__ import annotations

import json
import posixpath
import subprocess
import sys
from typing import Any

import yaml


def _load(git_dir: str, commit: str, path: str) -> Any:
    text = subprocess.run(  # noqa: S603 - run by hand on a clone the engineer chose
        ["git", "--git-dir", git_dir, "show", f"{commit}:{path}"],  # noqa: S607
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return json.loads(text) if path.endswith(".json") else yaml.safe_load(text)


def _pointer(document: Any, fragment: str) -> Any:
    for part in [p for p in fragment.lstrip("/").split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def _prose(key: str, node: dict[str, Any]) -> bool:
    # "description" names a property inside "properties"; elsewhere it is text.
    is_property_name = isinstance(node.get(key), dict) and "type" in node.get(key, {})
    return not is_property_name and (key in {"description", "example", "examples"} or key.startswith("x-"))


def bundle(git_dir: str, commit: str, root: str, operations: list[str]) -> dict[str, Any]:
    cache: dict[str, Any] = {}

    def file(path: str) -> Any:
        if path not in cache:
            cache[path] = _load(git_dir, commit, path)
        return cache[path]

    def inline(node: Any, here: str, stack: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [inline(item, here, stack) for item in node]
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("$ref"), str):
            target, _, fragment = node["$ref"].partition("#")
            path = posixpath.normpath(posixpath.join(posixpath.dirname(here), target)) if target else here
            key = f"{path}#{fragment}"
            if key in stack:
                return {}
            resolved = _pointer(file(path), fragment)
            return inline(resolved, path, (*stack, key))
        return {k: inline(v, here, stack) for k, v in node.items() if not _prose(k, node)}

    document = file(root)
    paths: dict[str, Any] = {}
    for wanted in operations:
        method, path = wanted.split(" ", 1)
        item = inline(document["paths"][path], root, ())
        kept = paths.setdefault(path, {k: v for k, v in item.items() if k == "parameters"})
        operation = item[method]
        # Only the success answers: our fixtures are successes; errors are checked by status alone.
        operation["responses"] = {k: v for k, v in operation["responses"].items() if k.startswith("2")}
        kept[method] = operation
    components = document.get("components", {})
    return {
        "openapi": document["openapi"],
        "info": {k: document["info"][k] for k in ("title", "version") if k in document["info"]},
        "servers": document.get("servers", []),
        "paths": paths,
        "components": {"securitySchemes": inline(components.get("securitySchemes", {}), root, ())},
        **({"security": document["security"]} if "security" in document else {}),
    }


if __name__ == "__main__":
    git_dir, commit, root, out, *ops = sys.argv[1:]
    with open(out, "w") as handle:
        json.dump(bundle(git_dir, commit, root, ops), handle, indent=1, sort_keys=True)
        handle.write("\n")
