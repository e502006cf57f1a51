"""Record encoding on the topics: Avro with the Confluent wire format when a schema registry URL is
set, Avro single-object encoding otherwise; JSON objects accepted on input for payments.

Both encodings raise schemas.codec.CodecError, which the agents turn into dead-letter records.
"""

from __future__ import annotations

import json
from typing import Any

from fastavro.schema import expand_schema

from schemas.codec import (
    CodecError,
    RecordName,
    decode_json,
    decode_single_object,
    encode_single_object,
    from_avro,
    schema,
    sniff,
    to_avro,
)
from streams.settings import Settings


class Serde:
    """Encodes and decodes every record the service reads or writes."""

    def __init__(self, settings: Settings) -> None:
        self._registry: Any = None
        self._serializers: dict[tuple[str, RecordName], Any] = {}
        self._deserializer: Any = None
        if settings.schema_registry_url:
            from confluent_kafka.schema_registry import SchemaRegistryClient
            from confluent_kafka.schema_registry.avro import AvroDeserializer

            conf: dict[str, Any] = {"url": settings.schema_registry_url}
            if settings.schema_registry_auth:
                conf["basic.auth.user.info"] = settings.schema_registry_auth.get_secret_value()
            self._registry = SchemaRegistryClient.new_client(conf)
            self._deserializer = AvroDeserializer(self._registry)

    @property
    def uses_registry(self) -> bool:
        return self._registry is not None

    def encode(self, topic: str, name: RecordName, record: dict[str, Any]) -> bytes:
        """A record (JSON form) as the bytes of a topic value."""
        if self._registry is None:
            return encode_single_object(name, record)
        from confluent_kafka.serialization import MessageField, SerializationContext

        serializer = self._serializers.get((topic, name))
        if serializer is None:
            from confluent_kafka.schema_registry.avro import AvroSerializer

            serializer = AvroSerializer(
                self._registry,
                json.dumps(expand_schema(schema(name))),
                lambda obj, _ctx: to_avro(name, obj),
            )
            self._serializers[(topic, name)] = serializer
        try:
            data: bytes = serializer(record, SerializationContext(topic, MessageField.VALUE))
        except Exception as exc:  # noqa: BLE001 - the serializer raises several types; all are one codec error here
            raise CodecError(f"{name} record cannot be encoded for {topic}: {exc}") from None
        return data

    def decode(self, topic: str, expected: RecordName, data: bytes | None) -> dict[str, Any]:
        """A record's JSON form from a topic value in any accepted encoding."""
        if not data:
            raise CodecError("empty value")
        kind = sniff(data)
        if kind == "json":
            if expected != "Payment":
                raise CodecError(f"JSON is accepted only for payments, not for {expected} records")
            return decode_json(data)
        if kind == "single_object":
            name, record = decode_single_object(data)
            if name != expected:
                raise CodecError(f"expected a {expected} record, found {name}")
            return record
        if kind == "confluent":
            if self._deserializer is None:
                raise CodecError("Confluent wire format, but no schema registry URL is configured")
            from confluent_kafka.serialization import MessageField, SerializationContext

            try:
                datum = self._deserializer(data, SerializationContext(topic, MessageField.VALUE))
            except Exception as exc:  # noqa: BLE001 - registry lookups and Avro reads raise several types
                raise CodecError(f"Confluent Avro value cannot be read: {exc}") from None
            if not isinstance(datum, dict):
                raise CodecError("Confluent Avro value is not a record")
            return from_avro(expected, datum)
        raise CodecError(
            f"unknown encoding (first byte {data[:1].hex() or 'none'}): not JSON, Avro single-object or Confluent Avro"
        )
