"""What a run starts first: the seed plan read from this environment's last summary, and the longest claims
scheduled first.  What is trained does not depend on it (tested on a real session in test_results.py)."""
from __future__ import annotations

import json
import shutil

from harness import collect, schedule

FP = "tf2.21.0-keras3.15.1-cpu-26c161f2"


def test_the_plan_is_the_most_seeds_a_claim_needed_last_time(tmp_path):
    plan = schedule.seed_plan(FP, [tmp_path, schedule.BASELINES])  # nothing in tmp_path: the committed baseline
    assert plan["circles_relu20"] == 1000 and plan["circles_relu15"] == 100 and plan["reg_target_minmax"] == 300
    assert plan["reg_unscaled_clipnorm"] == 30


def test_no_plan_without_a_summary_of_this_environment(tmp_path):
    assert schedule.seed_plan("tf9.9.9-keras9.9.9-cpu-00000000", [tmp_path, schedule.BASELINES]) == {}


def test_an_unreadable_summary_is_no_plan_and_the_next_directory_counts(tmp_path):
    (tmp_path / f"{FP}.json").write_text("{not json")
    assert schedule.seed_plan(FP, [tmp_path]) == {}
    assert schedule.seed_plan(FP, [tmp_path, schedule.BASELINES])["circles_relu20"] == 1000


def test_this_machines_history_comes_before_the_baseline(tmp_path):
    shutil.copy(schedule.BASELINES / f"{FP}.json", tmp_path / f"{FP}.json")
    data = json.loads((tmp_path / f"{FP}.json").read_text())
    for c in data["claims"]:
        if "circles_relu20" in c["experiments"]:
            c["seeds"] = 300
    (tmp_path / f"{FP}.json").write_text(json.dumps(data))
    assert schedule.seed_plan(FP, [tmp_path, schedule.BASELINES])["circles_relu20"] == 300


def test_the_longest_claims_are_expected_to_cost_most():
    plan = schedule.seed_plan(FP, [schedule.BASELINES])
    claims = {c.id: c for c in collect.all_claims()}
    relu20 = schedule.expected_seconds(claims["relu20_no_longer_learns"], plan, 30)
    nan = schedule.expected_seconds(claims["unscaled_target_nan"], plan, 30)
    assert relu20 > 20 * nan > 0
