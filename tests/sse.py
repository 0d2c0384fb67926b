"""Reading Server-Sent Events in tests, one event at a time."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


def read_events(lines: Iterable[str]) -> Iterator[tuple[str | None, Any]]:
    """(event name or None, parsed JSON data, or the raw data if it is not JSON) per event."""
    name: str | None = None
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                raw = "\n".join(data)
                try:
                    yield name, json.loads(raw)
                except json.JSONDecodeError:
                    yield name, raw
            name, data = None, []
        elif line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:") :].strip())
    if data:
        yield name, json.loads("\n".join(data))
