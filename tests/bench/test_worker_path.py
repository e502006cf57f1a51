"""The bench's in-process worker path: every payment goes through the worker's processor, and a
second pass over the same names finds them in the memos."""

import pytest

from ops.bench import data, worker_path
from ops.bench.engine_bench import rules_with_list
from rules import load_rules
from rules.registry import registry_from_mapping


def test_path_times_every_stage_and_known_names_cost_less_to_screen():
    listed = data.blocked_persons(2_000, 3)
    registry_data = data.registry(3)
    registry = registry_from_mapping(registry_data)
    drawn = [g.payment for g in data.payments(600, 3, listed[:200], registry_data, run=3)]
    warm = [g.payment for g in data.payments(300, 3, listed[:200], registry_data, run=6)]
    rules, _ = rules_with_list(load_rules(), listed)
    mix, known = worker_path.run(rules, registry, drawn, warm)
    # Every payment was screened (run raises on a dead-letter or a repeat), the mix's blocks too.
    assert mix.payments == known.payments == len(drawn)
    assert mix.decisions == known.decisions
    assert mix.decisions["block"] > 0
    assert set(mix.stages_us) == {"decode", "screen", "encode", "audit"}
    assert all(us > 0 for us in mix.stages_us.values())
    assert mix.total_us == sum(mix.stages_us.values())
    # The second pass searched no name: the screen stage is what the engine costs without searching.
    assert known.stages_us["screen"] < mix.stages_us["screen"]


def test_a_payment_not_screened_stops_the_figure():
    listed = data.blocked_persons(200, 3)
    registry_data = data.registry(3)
    drawn = [g.payment for g in data.payments(20, 3, listed, registry_data, run=3)]
    # The same payment id twice: the second is a repeat, answered from the decided store.
    drawn.append(drawn[0])
    rules, _ = rules_with_list(load_rules(), listed)
    with pytest.raises(RuntimeError, match="did not screen every payment"):
        worker_path.run(rules, registry_from_mapping(registry_data), drawn, [])


def test_the_second_pass_takes_the_last_payments_only(monkeypatch):
    monkeypatch.setattr(worker_path, "KNOWN_PASS", 40)
    listed = data.blocked_persons(200, 3)
    registry_data = data.registry(3)
    drawn = [g.payment for g in data.payments(120, 3, listed, registry_data, run=3)]
    rules, _ = rules_with_list(load_rules(), listed)
    mix, known = worker_path.run(rules, registry_from_mapping(registry_data), drawn, [])
    assert (mix.payments, known.payments) == (120, 40)
