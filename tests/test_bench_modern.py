"""The verdicts benchmarks/modern.py writes into results/modern.md.

The report states whether a target is met; a verdict drawn from one seed, from
runs of different seeds, or from the wrong pair of rungs would be a false claim.
"""

import json
from pathlib import Path

import pytest

from gancourse.training.ladder import RUNGS
from tests.benchmarks import load_benchmark

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "modern.py"


@pytest.fixture(scope="module")
def modern():
    return load_benchmark("modern")


def run(rung, seed, fid, steps=6000, data=4000, augment=None):
    """One run's result as modern.py records it."""
    return {
        "rung": rung,
        "seed": seed,
        "steps": steps,
        "data": data,
        "augment": augment,
        "fid": fid,
        "floor": 0.2,
        "precision": 0.7,
        "recall": 0.7,
        "best_fid": fid,
        "best_step": steps,
        "fid_curve": [[2000, steps], [5.0, fid]],
        "seconds": 1.0,
    }


def verdict(lines):
    (line,) = [line for line in lines if line.startswith("Target")]
    return line.rsplit("target ", 1)[1]


@pytest.mark.parametrize(
    ("top", "expected"),
    [((1.5, 1.5), "met."), ((1.5, 1.7), "NOT met."), ((1.4, 1.6), "met.")],
)
def test_the_ladder_is_judged_on_the_mean_of_the_seeds(modern, top, expected):
    # DCGAN mean 3.0; half of it is 1.5 exactly, 1.6 is above, (1.4 + 1.6) / 2 is on it
    runs = [run(RUNGS[0], 0, 2.8), run(RUNGS[0], 1, 3.2)]
    runs += [run(RUNGS[-1], seed, fid) for seed, fid in enumerate(top)]
    assert verdict(modern._ladder(runs)) == expected


def test_one_seed_or_different_seeds_are_not_judged(modern):
    one = [run(RUNGS[0], 0, 3.0), run(RUNGS[-1], 0, 1.0)]
    assert verdict(modern._ladder(one)).startswith("not judged")
    apart = [run(RUNGS[0], 0, 3.0), run(RUNGS[0], 1, 3.0), run(RUNGS[-1], 0, 1.0)]
    apart.append(run(RUNGS[-1], 2, 1.0))
    assert verdict(modern._ladder(apart)).startswith("not judged")


def test_the_ladder_compares_the_top_rung_not_a_middle_one(modern):
    runs = [run(RUNGS[0], s, 3.0) for s in (0, 1)]
    runs += [run(RUNGS[1], s, 1.0) for s in (0, 1)]  # a middle rung at a third
    runs += [run(RUNGS[-1], s, 2.0) for s in (0, 1)]
    assert verdict(modern._ladder(runs)) == "NOT met."


def small(seed, fid, augment=None, steps=16000):
    return run(RUNGS[0], seed, fid, steps=steps, data=400, augment=augment)


def test_diffaugment_is_judged_on_two_seeds_at_the_longest_budget(modern):
    runs = [small(s, 3.3, steps=6000) for s in (0, 1)]
    runs += [small(s, 3.9, "translation", steps=6000) for s in (0, 1)]
    runs += [small(0, 4.2), small(1, 4.0), small(0, 3.1, "translation")]
    runs.append(small(1, 3.5, "translation"))
    (line,) = [line for line in modern._small_verdict(runs) if line]
    assert "16000 steps, 2 seeds" in line and line.endswith(": met.")
    assert "lower with it in 2 of 2 seeds" in line
    # the 6,000-step pair, where DiffAugment lost, is not the one judged
    worse = runs[:4] + [small(0, 3.0), small(1, 3.0)] + runs[6:]
    (line,) = [line for line in modern._small_verdict(worse) if line]
    assert line.endswith("NOT met.") and "lower with it in 0 of 2 seeds" in line
    # a mean won by one seed alone says so
    split = runs[:4] + [small(0, 4.2), small(1, 3.0)] + runs[6:]
    (line,) = [line for line in modern._small_verdict(split) if line]
    assert line.endswith(": met.") and "lower with it in 1 of 2 seeds" in line


def test_diffaugment_with_one_seed_or_two_policies_is_not_judged(modern):
    assert modern._small_verdict([small(0, 4.2), small(0, 3.1, "translation")]) == []
    apart = [small(s, 4.0) for s in (0, 1)]
    apart += [small(s, 3.0, "translation") for s in (0, 2)]  # seeds 1, 2 unpaired
    assert modern._small_verdict(apart) == []
    mixed = [small(s, 4.0) for s in (0, 1)]
    mixed += [small(0, 3.0, "translation"), small(1, 3.0, "cutout")]
    assert modern._small_verdict(mixed) == []


def test_the_report_names_every_budget(modern):
    runs = [run(rung, s, 3.0) for rung in RUNGS for s in (0, 1)]
    runs += [
        run(r, s, 2.0, steps=n)
        for r in RUNGS[::4]
        for s in (0, 1)
        for n in (16000, 20000)
    ]
    text = modern.report(runs, 6000, [16000, 20000], "--report --seeds 0 1")
    assert "Written by `python benchmarks/modern.py --report --seeds 0 1`, with" in text
    assert "## The ladder at 6000 steps" in text
    assert "## A longer budget: 16000 steps" in text
    assert "## A longer budget: 20000 steps" in text


def test_seeds_added_later_are_judged_with_the_rest_and_the_first_two_shown(modern):
    fids = {RUNGS[0]: [4.0, 4.0, 2.0, 2.0], RUNGS[-1]: [1.9, 1.9, 1.9, 1.9]}
    runs = [run(r, s, fid) for r, seeds in fids.items() for s, fid in enumerate(seeds)]
    lines = modern._ladder(runs, added_later=True)
    assert any(x.endswith("Measured: 0.633 of it, target NOT met.") for x in lines)
    assert any("On seeds 0 and 1 alone, the two run first: 0.475" in x for x in lines)
    together = modern._ladder(runs)  # four seeds planned and run together
    assert any(x.endswith("Measured: 0.633 of it, target NOT met.") for x in together)
    assert not any("alone" in x for x in together)
    first_two = modern._ladder([r for r in runs if r["seed"] < 2], added_later=True)
    assert any(x.endswith("Measured: 0.475 of it, target met.") for x in first_two)
    assert not any("alone" in x for x in first_two)


def test_the_report_marks_which_budget_had_seeds_added_later(modern):
    runs = [run(rung, s, 3.0) for rung in RUNGS for s in (0, 1)]
    runs += [
        run(r, s, 2.0 + s / 10, steps=n)
        for r in RUNGS[::4]
        for s in (0, 1, 2, 3)
        for n in (20000, 30000)
    ]
    text = modern.report(runs, 6000, [20000, 30000], "--report --seeds 0 1 2 3")
    at_20k, at_30k = text.split("## A longer budget: 30000 steps")
    assert "On seeds 0 and 1 alone" in at_20k.split("## A longer budget: 20000")[1]
    assert "alone" not in at_30k
    assert "written down before it started" in at_30k
    assert "written down before it started" not in at_20k


def test_every_recorded_run_is_planned_and_the_rest_are_named(modern):
    # `make bench` runs PLAN: the record holds planned runs only, and the report
    # names every planned run it does not hold yet
    planned = [modern.run_key(*job) for job in modern.planned_jobs(None, None)]
    assert len(planned) == len(set(planned)), "a run planned twice"
    record = SCRIPT.parent / "results" / "modern.json"
    recorded = {modern.result_key(r) for r in json.loads(record.read_text())}
    assert recorded <= set(planned)
    text = (SCRIPT.parent / "results" / "modern.md").read_text()
    missing = len(set(planned) - recorded)
    assert (f"**Planned and not run yet** ({missing})" in text) == (missing > 0)


def test_the_report_names_the_runs_not_in_yet(modern):
    runs = [run(rung, s, 3.0) for rung in RUNGS for s in (0, 1)]
    missing = [
        (RUNGS[0], 2, 30000, False, None),
        (RUNGS[0], 0, 6000, True, "translation"),
    ]
    text = modern.report(runs, 6000, [30000], "--report", missing)
    assert (
        "**Planned and not run yet** (2): DCGAN, seed 2, 30000 steps; "
        "DCGAN on 400 digits with translation, seed 0, 6000 steps." in text
    )
    assert "Planned and not run yet" not in modern.report(runs, 6000, [], "--report")


def test_a_budget_half_run_is_not_judged_and_compares_only_shared_seeds(modern):
    # the DCGAN has seeds 0, 1 so far, the top rung 0 to 3
    runs = [run(RUNGS[0], s, 4.0) for s in (0, 1)]
    runs += [run(RUNGS[-1], s, fid) for s, fid in enumerate([1.0, 1.0, 3.0, 3.0])]
    lines = modern._ladder(runs)
    assert verdict(lines).startswith("not judged")
    assert any("on the seeds both rungs have (0, 1) 0.250 of it" in x for x in lines)
    # the top rung's mean is over other seeds than the DCGAN's: no share printed
    assert f"- {RUNGS[-1]}: 2.00" in lines
    only_top = [r for r in runs if r["rung"] == RUNGS[-1]]
    assert "Target not judged: the two rungs share no seed yet." in modern._ladder(
        only_top
    )


def test_the_plan_can_be_run_in_parts(modern):
    jobs = modern.planned_jobs([RUNGS[0]], [30000])
    assert jobs == [(RUNGS[0], seed, 30000, False, None) for seed in (0, 1, 2, 3)]
    assert all(job[0] == RUNGS[-1] for job in modern.planned_jobs([RUNGS[-1]], None))


def test_a_finished_run_is_used_else_the_recorded_one(modern, tmp_path):
    planned = [(RUNGS[0], 0, 6000, False, None), (RUNGS[0], 1, 6000, False, None)]
    planned += [(RUNGS[0], 2, 6000, False, None)]  # neither finished nor recorded
    here = run(RUNGS[0], 0, 2.0)
    (tmp_path / f"{modern.result_key(here)}.json").write_text(json.dumps(here))
    recorded = [
        run(RUNGS[0], 0, 9.0),
        run(RUNGS[0], 1, 3.0),
        run(RUNGS[0], 1, 1.0, steps=1),
    ]
    results = modern.gather(planned, recorded, tmp_path)
    assert [(r["seed"], r["fid"]) for r in results] == [(0, 2.0), (1, 3.0)]


def test_recorded_runs_are_not_run_again(modern):
    jobs = modern.planned_jobs([RUNGS[0]], [30000])  # seeds 0 to 3
    recorded = [run(RUNGS[0], 0, 2.0, steps=30000), run(RUNGS[0], 1, 2.0, steps=30000)]
    recorded += [run(RUNGS[0], 2, 2.0, steps=30000, data=400)]  # another run's seed 2
    assert modern.not_recorded(jobs, recorded) == jobs[2:]
