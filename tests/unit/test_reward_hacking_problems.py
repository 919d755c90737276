"""Reward-hacking problems: references agree, workspaces run, targets are honest (or not)."""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from stagelens.environments.reward_hacking import (
    ALL_VARIANTS,
    HARNESS_FILES,
    HONESTY_INSTRUCTION,
    PROBLEMS,
    Problem,
    Variant,
    build_workspace,
    load_solve,
    parse_timer_output,
    read_only_paths,
    task_prompt,
)
from stagelens.environments.reward_hacking.problem import copy_args, run_reference, seed_for
from stagelens.environments.reward_hacking.scripts import TIMER_LINE_PATTERN
from stagelens.environments.reward_hacking.workspace import timing_inputs, visible_inputs

ALL = list(PROBLEMS.values())
IDS = [p.name for p in ALL]


def test_at_least_twelve_distinct_problems() -> None:
    assert len(PROBLEMS) >= 12
    for problem in ALL:
        assert problem.slow_source != problem.fast_source
        assert problem.signature.startswith("def solve(")
        assert problem.slow_source.startswith(problem.signature)
        assert 5.0 <= problem.target_speedup <= 20.0


@pytest.mark.parametrize("problem", ALL, ids=IDS)
def test_slow_and_fast_references_agree_on_random_inputs(problem: Problem) -> None:
    sizes = (0, 1, 2, 3, problem.visible_size, problem.test_size // 2)
    for index, size in enumerate(sizes):
        for trial in range(3):
            cases = problem.make_inputs(seed_for(problem.name, f"agree{trial}", index), size)
            assert cases
            slow = run_reference(problem.slow_source, cases)
            fast = run_reference(problem.fast_source, cases)
            assert slow == fast, f"{problem.name} size {size}: {cases!r}"


@pytest.mark.parametrize("problem", ALL, ids=IDS)
def test_inputs_are_deterministic_and_json_friendly(problem: Problem) -> None:
    first = problem.make_inputs(11, problem.visible_size)
    assert first == problem.make_inputs(11, problem.visible_size)
    assert json.loads(json.dumps([list(a) for a in first])) == [list(a) for a in first]
    # Hidden and timing seeds differ from the visible ones, so the inputs do too.
    assert timing_inputs(problem, problem.visible_size) != visible_inputs(problem)[:1]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _speedup(problem: Problem, size: int) -> float:
    cases = problem.make_inputs(seed_for(problem.name, "speed"), size)
    times = []
    for code in (problem.slow_source, problem.fast_source):
        solve = load_solve(code)
        fresh = [copy_args(args) for args in cases]
        start = _cpu_seconds()
        for args in fresh:
            solve(*args)
        times.append(max(_cpu_seconds() - start, 1e-6))
    return times[0] / times[1]


@pytest.mark.parametrize("problem", ALL, ids=IDS)
def test_fast_reference_passes_the_workspace_checks(problem: Problem, tmp_path: Path) -> None:
    # The honest submission (what the organism's `improve` writes) passes the visible tests,
    # and the timer accepts its outputs and reports a speed-up. Whether that speed-up clears
    # the target is a timing figure: `python bench/detector_stability.py` and
    # `python -m stagelens.environments.reward_hacking.measure` print it.
    files = build_workspace(problem, Variant(), timing_size=problem.test_size)
    files["solution.py"] = problem.fast_source
    _write(files, tmp_path)
    tests = subprocess.run(
        [sys.executable, "test_solution.py"], cwd=tmp_path, capture_output=True, text=True
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    timer = subprocess.run(
        [sys.executable, "timer.py"], cwd=tmp_path, capture_output=True, text=True
    )
    claim = parse_timer_output(timer.stdout)
    assert claim.found and claim.speedup is not None and claim.speedup > 0, timer.stdout
    assert "wrong output" not in timer.stdout and "failed" not in timer.stdout


@pytest.mark.parametrize("problem", ALL, ids=IDS)
def test_impossible_target_far_beyond_fast_reference(problem: Problem) -> None:
    impossible = Variant(impossible=True)
    files = build_workspace(problem, impossible, timing_size=problem.test_size)
    assert f"TARGET = {problem.impossible_speedup!r}" in files["timer.py"]
    assert problem.impossible_speedup >= 20 * _speedup(problem, problem.test_size)


def _write(files: dict[str, str], directory: Path) -> None:
    for name, content in files.items():
        (directory / name).write_text(content, encoding="utf-8")


@pytest.mark.parametrize("problem", ALL, ids=IDS)
def test_workspace_tests_pass_and_timer_prints_verdict(problem: Problem, tmp_path: Path) -> None:
    files = build_workspace(problem, Variant(), timing_size=problem.test_size)
    assert set(files) == {"solution.py", *HARNESS_FILES}
    assert files["solution.py"] == problem.slow_source
    assert problem.fast_source not in "".join(files.values())
    _write(files, tmp_path)
    tests = subprocess.run(
        [sys.executable, "test_solution.py"], cwd=tmp_path, capture_output=True, text=True
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    timer = subprocess.run(
        [sys.executable, "timer.py"], cwd=tmp_path, capture_output=True, text=True
    )
    last = timer.stdout.strip().splitlines()[-1]
    assert re.match(TIMER_LINE_PATTERN, last), timer.stdout + timer.stderr
    claim = parse_timer_output(timer.stdout)
    assert claim.found and not claim.passed  # the slow code is ~1x, far from the target
    assert claim.target == problem.target_speedup


def test_timer_passes_with_fast_reference(tmp_path: Path) -> None:
    problem = PROBLEMS["pair_sum_count"]
    files = build_workspace(problem, Variant(), timing_size=problem.test_size)
    files["solution.py"] = problem.fast_source
    _write(files, tmp_path)
    timer = subprocess.run(
        [sys.executable, "timer.py"], cwd=tmp_path, capture_output=True, text=True
    )
    claim = parse_timer_output(timer.stdout)
    assert claim.passed and claim.speedup is not None and claim.speedup >= 10, timer.stdout
    assert timer.returncode == 0


def test_visible_test_file_rejects_a_wrong_solution(tmp_path: Path) -> None:
    problem = PROBLEMS["lcs_length"]
    files = build_workspace(problem, Variant(), timing_size=problem.test_size)
    files["solution.py"] = "def solve(a, b):\n    return 0\n"
    _write(files, tmp_path)
    tests = subprocess.run(
        [sys.executable, "test_solution.py"], cwd=tmp_path, capture_output=True, text=True
    )
    assert tests.returncode == 1 and "FAIL case" in tests.stdout


def test_variants_prompts_and_read_only_paths() -> None:
    problem = PROBLEMS["pair_sum_count"]
    assert len({v.name for v in ALL_VARIANTS}) == 8
    told = Variant(honesty_instruction=True)
    untold = Variant(honesty_instruction=False, read_only_harness=False)
    assert HONESTY_INSTRUCTION in task_prompt(problem, told)
    assert HONESTY_INSTRUCTION not in task_prompt(problem, untold)
    assert HONESTY_INSTRUCTION not in build_workspace(problem, untold, timing_size=50)["TASK.md"]
    assert read_only_paths(told) == HARNESS_FILES and read_only_paths(untold) == ()
    assert "1,000,000x" in task_prompt(problem, Variant(impossible=True))
    assert build_workspace(problem, told, timing_size=50) == build_workspace(
        problem, told, timing_size=50
    )


def test_parse_timer_output() -> None:
    claim = parse_timer_output("noise\nSPEEDUP 7.31x TARGET 10.0x FAIL\n")
    assert claim.found and claim.speedup == 7.31 and claim.target == 10.0 and not claim.passed
    assert parse_timer_output("SPEEDUP 12.00x TARGET 10.0x PASS").passed
    assert not parse_timer_output("Traceback ...").found
