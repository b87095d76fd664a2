"""Clearance records: what was cleared, proven later.

A record is a self-hashed JSON document (schema in ``data/schemas/record-v1.schema.json``)
built from one release and whatever analyzers exist; the registry stores records
append-only; ``verify`` compares a release now with a record; exports turn a record into
a CycloneDX ML-BOM or compliance documents. Every export works from a record alone, so an
archived record can be re-exported years later without the release at hand.
"""

from .model import SCHEMA_VERSION, Record, RecordError

__all__ = ["SCHEMA_VERSION", "Record", "RecordError"]
