"""The rows benchmarks/ema_batchnorm.py records when some checkpoints are gone.

Finished runs' checkpoints live under build/, which a fresh checkout lacks; judging
the runs that are here must not drop the recorded rows of the others, nor keep a
stale row beside a fresh one.
"""

import pytest

from tests.benchmarks import load_benchmark


@pytest.fixture(scope="module")
def ema_batchnorm():
    return load_benchmark("ema_batchnorm")


def row(run, fid):
    """One judged run as the script records it."""
    return {
        "run": run,
        "step": 100,
        "G": fid,
        "average": fid,
        "average, own statistics": fid,
    }


def test_recorded_rows_of_absent_runs_are_kept(ema_batchnorm):
    recorded = [
        row("full_EMA_s0_6000", 5.0),
        row("full_relativistic_R1R2_s0_6000", 2.8),
    ]
    judged = [row("full_relativistic_R1R2_s0_30000", 1.2)]
    rows = ema_batchnorm.merge_rows(recorded, judged)
    assert [r["run"] for r in rows] == [
        "full_EMA_s0_6000",
        "full_relativistic_R1R2_s0_30000",
        "full_relativistic_R1R2_s0_6000",
    ]


def test_a_run_judged_again_replaces_its_recorded_row(ema_batchnorm):
    recorded = [row("full_EMA_s0_6000", 5.0), row("full_EMA_s1_6000", 5.1)]
    judged = [row("full_EMA_s1_6000", 4.0)]
    rows = ema_batchnorm.merge_rows(recorded, judged)
    assert [(r["run"], r["G"]) for r in rows] == [
        ("full_EMA_s0_6000", 5.0),
        ("full_EMA_s1_6000", 4.0),
    ]


def test_nothing_recorded_gives_the_judged_rows(ema_batchnorm):
    judged = [row("b", 2.0), row("a", 1.0)]
    assert ema_batchnorm.merge_rows([], judged) == [row("a", 1.0), row("b", 2.0)]
