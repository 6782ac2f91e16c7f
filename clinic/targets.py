"""The record targets, generated from the route table for the service worker: the URLs that accept records
a device may keep while offline, with the kind of record each one is. The worker (which submissions to keep)
and its outbox (what each kept item is) read this list, rendered into /sw.js at every request, so neither
holds a copy of the routes that could drift from the server's."""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.routing import BaseRoute

from clinic.web import record_targets


def script(routes: Iterable[BaseRoute]) -> str:
    targets = []
    for route in record_targets(routes):
        assert route.offline is not None and route.methods is not None
        # Python's named groups (?P<name>...) are JavaScript's (?<name>...).
        pattern = route.path_regex.pattern.replace("(?P<", "(?<")
        targets.append({"kind": route.offline.kind, "methods": sorted(route.methods - {"HEAD"}),
                        "pattern": pattern})
    lines = ",\n".join("  " + json.dumps(target) for target in targets)
    return ("// Generated from the route table (clinic/routes.py): the URLs that accept records a device may keep\n"
            f"// while offline, and the kind of each record.\nself.RECORD_TARGETS = [\n{lines}\n];\n")
