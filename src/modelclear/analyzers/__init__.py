"""Analyzers: pure functions from a Release (and earlier results) to frozen results.

Convention: each module exposes ``analyze(release, ...)`` returning a frozen
dataclass or pydantic model with ``findings`` and ``to_json()``. No printing, no exits.
"""
