#!/usr/bin/env python3
"""Cut the GitHub issue-tracker subset out of GitHub's official REST API description.

Reads the full OpenAPI description of api.github.com (from github/rest-api-description)
and writes a self-contained subset that the test fake validates requests and responses
against:

  * ``openapi``, ``info`` (plus an ``x-brigade-source`` object naming where the input
    came from), ``servers`` and, if the input declares one, ``jsonSchemaDialect``;
  * the path items of the operations in ``OPERATIONS``, restricted to those methods
    (path-level fields such as ``parameters`` are kept, other methods dropped), verbatim;
  * the webhooks in ``WEBHOOKS`` that the input has, verbatim;
  * every ``components`` entry reachable by ``$ref`` from the above, followed
    transitively through the components themselves.

The output is written with sorted keys and ``indent=1`` so that diffs stay stable, and
the script asserts that every ``$ref`` in it resolves inside it.

Usage:
  extract.py FULL.json SUBSET.json --repository github/rest-api-description \
      --path descriptions-next/api.github.com/api.github.com.2022-11-28.json \
      --commit <40-hex commit of that file>

Standard library only.
"""

import argparse
import json
import re
import sys

# (path, method) pairs kept from "paths".
OPERATIONS = [
    ("/repos/{owner}/{repo}/issues", "get"),  # issues/list-for-repo
    ("/repos/{owner}/{repo}/issues", "post"),  # issues/create
    ("/repos/{owner}/{repo}/issues/{issue_number}", "get"),  # issues/get
    ("/repos/{owner}/{repo}/issues/{issue_number}", "patch"),  # issues/update
]

# Keys of the top-level "webhooks" object kept when present.
WEBHOOKS = ["issues-closed", "issues-reopened"]

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

COMPONENT_REF = re.compile(r"^#/components/([^/]+)/([^/]+)(/.*)?$")


def unescape_pointer_token(token):
    """Decode one JSON Pointer reference token (RFC 6901)."""
    return token.replace("~1", "/").replace("~0", "~")


def iter_refs(node, where="$"):
    """Yield (location, ref) for every string-valued "$ref" key under node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where, value
            else:
                yield from iter_refs(value, "%s/%s" % (where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from iter_refs(value, "%s/%d" % (where, index))


def parse_component_ref(ref, where):
    """Return (section, name) for a local "#/components/<section>/<name>[/...]" ref."""
    match = COMPONENT_REF.match(ref)
    if not match:
        raise SystemExit(
            "unsupported $ref %r at %s: only local #/components/... refs are handled"
            % (ref, where)
        )
    return unescape_pointer_token(match.group(1)), unescape_pointer_token(match.group(2))


def resolve_pointer(document, ref):
    """Follow a local JSON Pointer ("#/a/b") inside document; KeyError if absent."""
    node = document
    for token in ref[2:].split("/"):
        token = unescape_pointer_token(token)
        if isinstance(node, list):
            node = node[int(token)]
        else:
            node = node[token]
    return node


def extract(full, source):
    subset = {
        "openapi": full["openapi"],
        "info": dict(full["info"]),
        "servers": full["servers"],
    }
    subset["info"]["x-brigade-source"] = source
    if "jsonSchemaDialect" in full:
        subset["jsonSchemaDialect"] = full["jsonSchemaDialect"]

    paths = {}
    for path, method in OPERATIONS:
        item = full["paths"].get(path)
        if item is None or method not in item:
            raise SystemExit("operation %s %s not found in the input" % (method.upper(), path))
        kept = paths.setdefault(
            path, {k: v for k, v in item.items() if k.lower() not in HTTP_METHODS}
        )
        kept[method] = item[method]
    subset["paths"] = paths

    webhooks = {name: full["webhooks"][name] for name in WEBHOOKS if name in full.get("webhooks", {})}
    if webhooks:
        subset["webhooks"] = webhooks

    # Transitive closure over components, starting from what is kept so far.
    source_components = full.get("components", {})
    components = {}
    pending = list(iter_refs({"paths": paths, "webhooks": webhooks}))
    while pending:
        where, ref = pending.pop()
        section, name = parse_component_ref(ref, where)
        if name in components.get(section, {}):
            continue
        try:
            value = source_components[section][name]
        except KeyError:
            raise SystemExit("$ref %r at %s does not resolve in the input" % (ref, where))
        components.setdefault(section, {})[name] = value
        pending.extend(iter_refs(value, "#/components/%s/%s" % (section, name)))
    if components:
        subset["components"] = components

    # Self-containment check: every $ref in the subset must resolve inside it.
    for where, ref in iter_refs(subset):
        assert ref.startswith("#/"), "non-local $ref %r at %s" % (ref, where)
        try:
            resolve_pointer(subset, ref)
        except (KeyError, IndexError, ValueError, TypeError):
            raise AssertionError("$ref %r at %s does not resolve inside the subset" % (ref, where))
    return subset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="full api.github.com OpenAPI description (JSON)")
    parser.add_argument("output", help="where to write the subset (JSON)")
    parser.add_argument("--repository", required=True, help="source repository, e.g. github/rest-api-description")
    parser.add_argument("--path", required=True, help="path of the description inside that repository")
    parser.add_argument("--commit", required=True, help="git commit id the description was taken from")
    args = parser.parse_args(argv)

    with open(args.input, encoding="utf-8") as handle:
        full = json.load(handle)
    source = {"repository": args.repository, "path": args.path, "commit": args.commit}
    subset = extract(full, source)
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(subset, handle, sort_keys=True, indent=1, ensure_ascii=False)
        handle.write("\n")
    counts = {k: len(v) for k, v in sorted(subset.get("components", {}).items())}
    print(
        "wrote %s: %d path items, %d webhooks, components %s"
        % (args.output, len(subset["paths"]), len(subset.get("webhooks", {})), counts),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
