"""The screen loop's work for a notice request: the notice the first time an (account, section)
needs one (SPEC 2.4; 31 CFR 1010.651(b)(3)(i)(A) and the like: the one-time notice to a
correspondent-account holder)."""

from __future__ import annotations

from collections.abc import MutableMapping

from schemas.codec import CodecError
from streams.audit import digest
from streams.dead_letter import Processor
from streams.records import Out, Outcome, Source


class NoticeProcessor(Processor):
    """The screen loop's work for a notice request: the notice the first time an (account, section)
    needs one."""

    def process(self, src: Source, sent: MutableMapping[str, str], registry_version: str) -> Outcome:
        try:
            notice = self.serde.decode(src.topic, "Notice", src.value)
        except CodecError as exc:
            return Outcome(self.dead_letter(src, str(exc), src.partition, ("", registry_version)), dead_letter=True)
        key = f"{notice['account_id']}|{notice['section']}"
        if key in sent:
            return Outcome([])
        audit_key, audit_value = self.audit.append(
            src.partition,
            kind="notice",
            subject_id=notice["notice_id"],
            input_digest=digest(src.value or b""),
            rules_version=notice["rules_version"],
            registry_version=registry_version,
            recorded_at=notice["issued_at"],
            body=notice,
        )
        # The notice is sent before the table remembers it: a crash in between repeats the same
        # notice (same id, same bytes), never loses it.
        outs = [
            Out(self.topics.notices, notice["account_id"].encode(), src.value or b""),
            Out(self.topics.audit, audit_key, audit_value, src.partition),
        ]
        return Outcome(outs, remember=(key, notice["notice_id"], notice["section"]))
