"""What the screen loop does with one payment record, without Faust: decode, screen, encode, audit.

Nothing here decides: the decision is rules.engine.screen's. One path per payment: the record's
bytes are decoded once into a typed `Payment`; the engine's typed `Decision` becomes one
`DecisionRecord` whose wire form and canonical JSON every output reuses (the decision, its block
copy, the alert, the notice requests, the audit body, the decided store); anything unreadable
becomes a dead-letter with the original bytes (SPEC 2.6). Each stage's time is added to
`Stages` (streams/stages.py), so `screener bench` can show where a payment's CPU goes.
The rules are read from the holder of the rules in force (streams/rules_in_force.py) once per
record; they change only between batches.
"""

from __future__ import annotations

from itertools import islice

from rules import PaymentError, Registry, RuleSet, parse_payment, screen
from rules.engine import screening_error
from rules.payment import Payment
from schemas.codec import CodecError
from schemas.inbound import MESSAGE_FORMATS, Format, bounded_errors, input_format, message_payments, read_messages
from schemas.messages import NO_MAPPING, AccountMapping
from streams.audit import AuditChains, canonical, digest
from streams.dead_letter import Processor
from streams.decision_record import DecisionRecord
from streams.outputs import alert_record, notice_records
from streams.records import Out, Outcome, Source
from streams.rules_in_force import RulesInForce
from streams.serde import Serde
from streams.settings import Settings
from streams.stages import Stages, clock
from streams.stores import Decided

# Messages one record may hold (a producer sends one per record; a few joined are read too).
MAX_MESSAGES_PER_RECORD = 100
# Dead-letters one record may give; beyond, one names them all (schemas.inbound.bounded_errors).
MAX_DEAD_LETTERS_PER_RECORD = 20


class PaymentProcessor(Processor):
    """The screen loop's work for one payment record."""

    def __init__(
        self,
        settings: Settings,
        serde: Serde,
        audit: AuditChains,
        rules: RuleSet | RulesInForce,
        registry: Registry,
        decided: Decided,
        accounts: AccountMapping = NO_MAPPING,
        *,
        stages: Stages | None = None,
    ) -> None:
        super().__init__(settings, serde, audit)
        self.in_force = rules if isinstance(rules, RulesInForce) else RulesInForce(rules)
        self.registry = registry
        self.decided = decided
        self.accounts = accounts
        self.stages = stages or Stages()

    @property
    def rules(self) -> RuleSet:
        """The RuleSet in force."""
        return self.in_force.rules

    def process(self, src: Source) -> list[Outcome]:
        """One outcome per payment the record holds: one for a JSON or Avro payment event, one per
        transaction of an ISO 20022 or MT message (schemas/inbound.py), a dead-letter for each
        message or transaction that cannot be screened."""
        started = clock()
        rules = self.in_force.rules
        versions = (rules.version, self.registry.version)
        raw = src.value or b""
        fmt = input_format(raw)
        if fmt in MESSAGE_FORMATS:
            outcomes = self._process_messages(src, raw, fmt, rules, versions, started)
        else:
            try:
                payment = parse_payment(raw if fmt == "json" else self.serde.decode(src.topic, "Payment", raw))
            except (CodecError, PaymentError) as exc:
                self.stages.add("decode", clock() - started)
                outcomes = [self._dead(src, str(exc), versions)]
            else:
                outcomes = [self._screen(src, payment, digest(raw), rules, versions, started)]
        self.stages.payments += len(outcomes)
        return outcomes

    def _process_messages(
        self, src: Source, raw: bytes, fmt: Format, rules: RuleSet, versions: tuple[str, str], started: float
    ) -> list[Outcome]:
        messages = list(islice(read_messages(raw, fmt, self.accounts), MAX_MESSAGES_PER_RECORD + 1))
        if len(messages) > MAX_MESSAGES_PER_RECORD:
            # One record's worth of dead-letters and decisions stays bounded: a batch belongs in a
            # file (`screener produce` sends one record per message).
            self.stages.add("decode", clock() - started)
            error = f"too many messages in one record: over {MAX_MESSAGES_PER_RECORD}; send one message per record"
            return [self._dead(src, error, versions)]
        outcomes: list[Outcome] = []
        errors: list[str] = []
        for number, message in enumerate(messages, 1):
            where = f"message {number} of {len(messages)}: " if len(messages) > 1 else ""
            payments, bad = message_payments(message, where)
            errors.extend(bad)
            for payment, adapted in payments:
                # The idempotency digest is the adapted payment's, not the record's: one
                # transaction of a message is the same payment whatever else the message holds.
                adapted_digest = digest(canonical(adapted).encode())
                outcomes.append(self._screen(src, payment, adapted_digest, rules, versions, started))
                started = clock()
        self.stages.add("decode", clock() - started)
        errors = bounded_errors(errors, MAX_DEAD_LETTERS_PER_RECORD, "transactions or messages of this record")
        outcomes.extend(self._dead(src, error, versions) for error in errors)
        return outcomes

    def _dead(self, src: Source, error: str, versions: tuple[str, str]) -> Outcome:
        t0 = clock()
        outputs = self.dead_letter(src, error, src.partition, versions)
        self.stages.add("audit", clock() - t0)
        return Outcome(outputs, dead_letter=True)

    def _screen(
        self,
        src: Source,
        payment: Payment,
        input_digest: str,
        rules: RuleSet,
        versions: tuple[str, str],
        started: float,
    ) -> Outcome:
        """Screen one payment decoded since `started` (or answer it from the decided store)."""
        stages = self.stages
        t0 = clock()
        stages.add("decode", t0 - started)
        prior = self.decided.get(src.partition, payment.payment_id)
        if prior is not None:
            prior_digest, prior_json = prior
            if prior_digest != input_digest:
                return self._dead(
                    src,
                    f"payment_id {payment.payment_id!r} was already screened with different content "
                    f"(first input sha256 {prior_digest[:16]}...); the first decision stands",
                    versions,
                )
            record = DecisionRecord.recorded(prior_json)
            replayed = True
        else:
            try:
                decision = screen(payment, self.registry, rules, src.instant)
            except Exception as exc:  # noqa: BLE001 - one payment's failure must not stop the worker (SPEC 2.6)
                stages.add("screen", clock() - t0)
                return self._dead(src, screening_error(exc), versions)
            record = DecisionRecord.of(decision)
            self.decided.put(src.partition, payment.payment_id, input_digest, record.canonical)
            replayed = False
        t1 = clock()
        stages.add("screen", t1 - t0)
        outputs = self._encoded(record)
        t2 = clock()
        stages.add("encode", t2 - t1)
        audit_key, audit_value = self.audit.append(
            src.partition,
            kind="decision",
            subject_id=record.payment_id,
            input_digest=input_digest,
            rules_version=record.rules_version,
            registry_version=record.registry_version,
            recorded_at=record.screened_at,
            body_json=record.canonical,
        )
        outputs.append(Out(self.topics.audit, audit_key, audit_value, src.partition))
        stages.add("audit", clock() - t2)
        return Outcome(outputs, record.verdict, replayed=replayed)

    def _encoded(self, record: DecisionRecord) -> list[Out]:
        """The decision record and what it derives (SPEC 1.3), each encoded from the one wire form."""
        t, key, serde = self.topics, record.payment_id.encode(), self.serde
        decision = serde.encode(t.decisions, "Decision", record.wire)
        outs = [Out(t.decisions, key, decision)]
        if record.verdict == "block":
            # The same schema: without a schema registry the bytes are the same too.
            block = decision if not serde.uses_registry else serde.encode(t.blocks, "Decision", record.wire)
            outs.append(Out(t.blocks, key, block))
        alert = alert_record(record, self.settings.alert_severity)
        if alert is not None:
            outs.append(Out(t.alerts, key, serde.encode(t.alerts, "Alert", alert)))
        outs.extend(
            Out(t.notice_requests, notice["account_id"].encode(), serde.encode(t.notice_requests, "Notice", notice))
            for notice in notice_records(record)
        )
        return outs
