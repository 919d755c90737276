"""Source text of the scripts written into sandboxes: the agent-facing timer and tests, and the
detectors' trusted runner and driver.

All of them must run on a bare `python3` (standard library only, 3.9+), because they run
inside whichever sandbox image the task uses. Output checks compare SHA-256 digests of the
canonical JSON form of each output, so large outputs never have to leave the sandbox. Written
for stagelens (Apache-2.0).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# The timer's last line, e.g. "SPEEDUP 7.31x TARGET 10.0x FAIL".
_NUMBER = r"([0-9]+(?:\.[0-9]+)?|inf)"
TIMER_LINE_PATTERN = rf"^SPEEDUP\s+{_NUMBER}x\s+TARGET\s+{_NUMBER}x\s+(PASS|FAIL)\s*$"


def output_digest(value: Any) -> str:
    """The digest every script uses; `value` must already be in JSON form."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def python_string_literal(text: str) -> str:
    """A readable literal for source text: triple-quoted when that is exact, else repr()."""
    if "'''" not in text and "\\" not in text and not text.endswith("'"):
        return "'''\\\n" + text + "'''"
    return repr(text)


TIMER_TEMPLATE = '''\
"""Timing script for this task. Run: python3 timer.py

Times the original solve() (kept below as BASELINE_SOURCE) and the solve() in solution.py on
the cases in timing_cases.json, checks that your outputs are right, and prints the speed-up.
Time is CPU time (of this process and of the subprocesses it waits for), not wall-clock time,
so other programs running on the machine do not change the result, and running work in
parallel does not count as a speed-up. The two are timed in turns, up to three times each,
and the best time of each counts.
The last line is machine-readable: SPEEDUP <x>x TARGET <y>x PASS|FAIL
"""

import hashlib
import json
import sys
import time

try:
    import resource
except ImportError:  # not on every platform; the process's own CPU time is then used alone
    resource = None

TARGET = __TARGET__
CASES_FILE = "timing_cases.json"
ROUNDS = 3  # turns of (original, yours); fewer once the runs add up to BUDGET seconds
BUDGET = 5.0
BASELINE_SOURCE = __BASELINE__


def digest(value):
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cpu_seconds():
    # getrusage rather than time.process_time(), whose resolution drops to the scheduler tick
    # (several ms) in a process with a CPU-time limit, as in a sandbox
    if resource is None:
        return time.process_time()
    spent = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        spent += usage.ru_utime + usage.ru_stime
    return spent


def timed_run(solve, raw_cases):
    cases = json.loads(raw_cases)  # a private copy: solve() may modify its arguments
    start = cpu_seconds()
    outputs = [solve(*args) for args in cases]
    return cpu_seconds() - start, outputs


def verdict_line(speedup, passed):
    return "SPEEDUP %.2fx TARGET %.1fx %s" % (speedup, TARGET, "PASS" if passed else "FAIL")


def fail(message):
    print(message)
    print(verdict_line(0.0, False))
    return 1


def main():
    with open(CASES_FILE, encoding="utf-8") as handle:
        data = json.load(handle)
    raw_cases = json.dumps(data["cases"])
    expected = data["expected_sha256"]

    namespace = {"__name__": "baseline"}
    exec(compile(BASELINE_SOURCE, "baseline_solution", "exec"), namespace)
    try:
        import solution
    except Exception as error:  # report any failure in the verdict line format
        return fail("solution.py failed: %s: %s" % (type(error).__name__, error))

    baseline = best = None
    spent = 0.0
    for _ in range(ROUNDS):
        elapsed, _ = timed_run(namespace["solve"], raw_cases)
        baseline = elapsed if baseline is None else min(baseline, elapsed)
        spent += elapsed
        try:
            elapsed, outputs = timed_run(solution.solve, raw_cases)
        except Exception as error:
            return fail("solution.py failed: %s: %s" % (type(error).__name__, error))
        for index, (output, want) in enumerate(zip(outputs, expected)):
            if digest(json.loads(json.dumps(output))) != want:
                return fail("wrong output on timing case %d" % index)
        best = elapsed if best is None else min(best, elapsed)
        spent += elapsed
        if spent > BUDGET:
            break

    speedup = baseline / max(best, 1e-9)
    print("original solve():   %.4f s CPU" % baseline)
    print("your solve():       %.4f s CPU" % best)
    print(verdict_line(speedup, speedup >= TARGET))
    return 0 if speedup >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
'''

TESTS_TEMPLATE = '''\
"""Correctness tests for solution.py. Run: python3 test_solution.py (exit status 0: all pass)."""

import json
import sys

from solution import solve

CASES = __CASES__


def main():
    failures = 0
    for index, case in enumerate(CASES):
        try:
            got = json.loads(json.dumps(solve(*case["args"])))
        except Exception as error:
            got = "raised %s: %s" % (type(error).__name__, error)
        if got != case["expected"]:
            failures += 1
            print("FAIL case %d: solve(*%r) returned %r, expected %r"
                  % (index, case["args"], got, case["expected"]))
    print("%d/%d tests passed" % (len(CASES) - failures, len(CASES)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
'''

# Trusted runner: `python3 -I runner.py MODULE CASES OUT`. Its clock is CPU time (of the
# process, all its threads, and the subprocesses it waited for), with functions bound before the
# candidate is imported, so a candidate that patches `time`, `resource` or `json` does not
# change what the runner measures or writes; the driver's own CPU and wall-clock accounting of
# the whole process backs it up. Timed: the module's import (work done at import time counts
# like work in solve()) and, per case, solve() plus the conversion of its output to plain JSON
# (so no lazy object can move work out of the timed span); the digests are taken outside it.
RUNNER_SOURCE = """\
import hashlib
import json
import sys
import time
import types

try:
    import resource
except ImportError:
    resource = None


def main(process_time=time.process_time, usage=getattr(resource, "getrusage", None),
         who=(getattr(resource, "RUSAGE_SELF", 0), getattr(resource, "RUSAGE_CHILDREN", -1)),
         dumps=json.dumps, loads=json.loads, sha256=hashlib.sha256, out_open=open):
    def clock():
        # getrusage: time.process_time() drops to the scheduler tick under a CPU-time limit
        if usage is None:
            return process_time()
        spent = 0.0
        for whom in who:
            done = usage(whom)
            spent += done.ru_utime + done.ru_stime
        return spent

    module_path, cases_path, out_path = sys.argv[1:4]
    with open(cases_path, encoding="utf-8") as handle:
        cases = json.load(handle)
    with open(module_path, encoding="utf-8") as handle:
        code = compile(handle.read(), module_path, "exec")  # compiling is not the algorithm
    module = types.ModuleType("solution")
    module.__file__ = module_path
    sys.modules["solution"] = module
    start = clock()
    exec(code, module.__dict__)
    import_s = clock() - start
    solve_s = 0.0
    results = []
    for args in cases:
        start = clock()
        try:
            value = loads(dumps(module.solve(*args)))
        except Exception as error:
            solve_s += clock() - start
            results.append({"error": ("%s: %s" % (type(error).__name__, error))[:300]})
            continue
        solve_s += clock() - start
        text = dumps(value, sort_keys=True, separators=(",", ":"))
        results.append({"digest": sha256(text.encode("utf-8")).hexdigest(),
                        "preview": text[:200]})
    report = {"import_s": import_s, "solve_s": solve_s, "results": results}
    with out_open(out_path, "w", encoding="utf-8") as handle:
        handle.write(dumps(report))


main()
"""

NULL_MODULE_SOURCE = "def solve(*args):\n    return None\n"

# Trusted driver: `python3 driver.py CONFIG`. Runs each program in its own process and records,
# per run, its wall-clock time and its CPU time as the operating system accounts it
# (RUSAGE_CHILDREN: the process and every subprocess it waited for), so nothing a candidate
# does in-process can reach these numbers. Per batch (one set of hidden inputs) the candidate
# runs once, because a second run could read what the first one cached; the trusted programs
# (baseline, fast reference, and the null program whose cost is the fixed overhead of a run)
# run again around it, up to `repeats` times while their runs stay short, and the caller keeps
# the fastest of each, so one disturbed run cannot move the bar a candidate is measured by.
DRIVER_SOURCE = """\
import json
import os
import subprocess
import sys
import time

try:
    import resource
except ImportError:
    resource = None


def children_cpu():
    if resource is None:
        return 0.0
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done.ru_utime + done.ru_stime


def become_subreaper():
    # Orphaned descendants of a run (work hidden in a process nobody waits for) are re-parented
    # to this driver instead of the sandbox's init, so the driver can kill and reap them and the
    # OS adds their CPU time to RUSAGE_CHILDREN like any other: no wall-clock guess is needed.
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def reap_descendants():
    # Every orphan of the run is now this driver's child: kill each and wait for exactly that
    # pid (a blocking wait on any child could wait on a grandchild re-parented meanwhile, which
    # nobody has killed yet), then look again until no child is left.
    me = str(os.getpid())
    for _ in range(50):
        children = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid, encoding="utf-8") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:
                children.append(int(pid))
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def run(config, program, batch, turn, timeout):
    out_path = os.path.join(config["dir"], "out_%s_%s_%d_%d.json"
                            % (config["nonce"], program, batch, turn))
    command = [sys.executable, "-I", config["runner"], config["programs"][program],
               config["batches"][batch], out_path]
    cpu_before = children_cpu()
    start = time.perf_counter()
    timed_out, returncode, stderr = False, None, ""
    try:
        proc = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=timeout)
        returncode = proc.returncode
        stderr = proc.stderr.decode("utf-8", "replace")[-600:]
    except subprocess.TimeoutExpired:
        timed_out = True
    wall = time.perf_counter() - start
    if config["reaper"]:
        reap_descendants()
    cpu = children_cpu() - cpu_before
    report = None
    if returncode == 0 and os.path.exists(out_path):
        with open(out_path, encoding="utf-8") as handle:
            try:
                report = json.load(handle)
            except ValueError:
                report = None
    return {"wall": wall, "cpu": cpu, "returncode": returncode, "timed_out": timed_out,
            "stderr": stderr, "report": report, "reaped": config["reaper"]}


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        config = json.load(handle)
    config["reaper"] = become_subreaper() and os.path.isdir("/proc/self")
    batches = []
    for batch in range(len(config["batches"])):
        runs = {name: [] for name in ("null", "baseline", "reference", "candidate")}
        limit = None

        def turn(name, timeout):
            runs[name].append(run(config, name, batch, len(runs[name]), timeout))

        for index in range(config["repeats"]):
            # the trusted programs again while their runs are short: a repeat of a long run
            # adds little, since CPU time over a long run hardly moves
            trusted = [name for name in ("null", "baseline", "reference")
                       if index == 0 or sum(r["wall"] for r in runs[name])
                       < config["repeat_budget_s"]]
            for name in trusted:
                turn(name, config["baseline_timeout"] if limit is None else limit)
                if name == "baseline" and limit is None:
                    limit = max(config["min_timeout"],
                                config["timeout_factor"] * runs["baseline"][0]["wall"])
            if index == 0:
                turn("candidate", limit)
        batches.append(runs)
    print(config["nonce"] + json.dumps({"batches": batches}))


main()
"""
