"""`screener bench --quick` runs on the embedded broker and prints well-formed figures.

A smoke test only: it asserts nothing about speed (the figures depend on the machine); the
targets are read from the command's JSON line, not from a timed test.
"""

import json
import subprocess
import sys

import pytest

from tests.ops.test_match_eval import write_ofac

pytestmark = pytest.mark.integration

KEYS: dict[str, type | tuple[type, ...]] = {
    "engine_per_s": (int, float),
    "engine_p99_ms": (int, float),
    "e2e_per_s": (int, float),
    "faust_naive_per_s": (int, float),
    "kafka_raw_per_s": (int, float),
    "e2e_vs_faust_naive": (int, float),
    "latency_p99_ms_at_1k": (int, float),
    "list_size": int,
    "cores": int,
    "python": str,
}


def test_bench_quick_prints_a_table_and_a_json_line(tmp_path):
    # A list in OFAC's CSV layout stands in for the real snapshot (which a clone does not have).
    ofac = tmp_path / "ofac"
    ofac.mkdir()
    write_ofac(ofac)
    work = tmp_path / "work"
    proc = subprocess.run(
        [sys.executable, "-m", "ops", "bench", "--quick", "--workdir", str(work), "--sanctions", str(ofac)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    result = json.loads(last)
    for key, kind in KEYS.items():
        assert isinstance(result[key], kind), key
    assert result["list_size"] == 20_000
    assert set(result["engine_per_s_by_list_size"]) == {"1000", "20000", "100000"}
    for key in ("engine_per_s", "e2e_per_s", "faust_naive_per_s", "kafka_raw_per_s"):
        assert result[key] > 0, key
    # The ratio is printed to two decimals, so it may differ from the printed rates' by 0.005.
    ratio = result["e2e_per_s"] / result["faust_naive_per_s"]
    assert result["e2e_vs_faust_naive"] == pytest.approx(ratio, abs=0.006)
    assert "engine  list  20,000" in proc.stderr
    assert "baseline: naive Faust agent" in proc.stderr
    assert "service: produce-to-decision at 1,000/s" in proc.stderr
    assert "baseline: broker hop" in proc.stderr
    assert result["broker_hop_p99_ms_at_1k"] > 0
    assert result["engine_per_s_cold_start"] > 0
    # Worker CPU per payment, by process and by stage of the payment path (the worker's own clock).
    assert result["cpu_us_per_payment_worker"] > 0
    stages = result["cpu_us_per_payment_by_stage"]
    assert set(stages) == {"decode", "screen", "encode", "audit", "produce"}
    assert stages["screen"] > 0 and stages["decode"] > 0 and stages["audit"] > 0
    assert sum(stages.values()) <= result["cpu_us_per_payment_worker"] * 1.5
    # The worker's path in process: by stage, and with every name known it costs no more.
    path, known = result["path_us_per_payment_by_stage_in_process"], result["path_us_per_payment_by_stage_names_known"]
    assert set(path) == set(known) == {"decode", "screen", "encode", "audit"}
    assert result["path_us_per_payment_in_process"] == pytest.approx(sum(path.values()), abs=0.5)
    assert known["screen"] < path["screen"]
    assert "worker path in process" in proc.stderr
    # The same figures on the list given with --sanctions.
    assert result["real_list_entries"] == 300
    assert result["engine_per_s_real_list"] > 0
    assert result["e2e_per_s_real_list"] > 0
    assert set(result["cpu_us_per_payment_by_stage_real_list"]) == set(stages)
    assert "service (real list): end to end at saturation" in proc.stderr
    # The replay phase: the lookback's rate on one process and on every core, and what it found
    # (the replayed list adds 250 of the names the payments carry and removes 250 others).
    assert result["replay_per_s_one_job"] > 0
    assert result["replay_per_s_all_jobs"] > 0
    assert result["replay_vs_worker_per_core"] > 0
    assert "pass->block" in result["replay_transitions"]
    assert "block->pass" in result["replay_transitions"]
