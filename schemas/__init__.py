"""Avro schemas (screener.*.avsc) for every record in SPEC 1, and their codec."""
