"""A sharded suite covers every sample once, merges into one log equal to an unsharded run,
resumes after kill -9 without generating a finished sample again, and runs on Ray alike."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from stagelens.evaluate.runner import StageModel, evaluate_stage, read_suite
from stagelens.evaluate.shards import SHARDS_SUFFIX, evaluate_sharded
from stagelens.suites import unregister_suite
from stagelens.suites.sharding import apply_shard, parse_shard, shard_samples
from tests.integration import shard_tiny
from tests.integration.shard_tiny import NAME, N

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ARGS: dict[str, Any] = {"n": N}
REPLIES = StageModel("base", "mockllm/model", "tiny-replies", provider="inspect",
                     model_args=(("custom_outputs", shard_tiny.replies),))  # fmt: skip


@pytest.fixture(autouse=True)
def _tiny_suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # Inspect's realtime sample buffer lives in the user's data dir: keep it per test
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    shard_tiny.register()
    yield
    unregister_suite(NAME)


def _scores(log_path: Path) -> dict[Any, Any]:
    from inspect_ai.log import read_eval_log

    log = read_eval_log(str(log_path))
    return {s.id: s.scores["said_target"].value for s in log.samples or []}  # type: ignore[index]


@pytest.mark.parametrize("n", [0, 1, 7, 40, 41])
@pytest.mark.parametrize("k", [1, 3, 4, 9])
def test_shards_cover_every_sample_exactly_once(n: int, k: int) -> None:
    items = list(range(n))
    shards = [shard_samples(items, f"{i}/{k}") for i in range(k)]
    assert [x for shard in shards for x in shard] == items  # in order, each once
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    assert shards == [shard_samples(items, f"{i}/{k}") for i in range(k)]  # deterministic


@pytest.mark.parametrize("bad", ["3/3", "1", "a/b", "-1/2", "0/0"])
def test_bad_shard_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="shard"):
        parse_shard(bad)


def test_task_shards_keep_unsharded_sample_ids() -> None:
    whole = [s.id for s in apply_shard(shard_tiny.shard_tiny(n=10).dataset, None)]
    parts = [[s.id for s in shard_tiny.shard_tiny(n=10, shard=f"{i}/3").dataset]
             for i in range(3)]  # fmt: skip
    assert whole == list(range(1, 11)) == [i for part in parts for i in part]
    assert [len(p) for p in parts] == [3, 3, 4]


def test_an_empty_shard_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="use at most 2 shards"):
        shard_tiny.shard_tiny(n=2, shard="0/3")


def test_merged_log_equals_unsharded_run(tmp_path: Path) -> None:
    from inspect_ai.log import read_eval_log, read_eval_log_sample, read_eval_log_sample_summaries

    whole = evaluate_stage(REPLIES, [NAME], ARGS, tmp_path / "whole", lambda _: None)[NAME]
    messages: list[str] = []
    merged = evaluate_sharded(REPLIES, NAME, ARGS, 4, tmp_path / "sharded", messages.append)

    # every shard's log is its own eval over a quarter of the samples
    shard_logs = sorted((tmp_path / "sharded").glob(f"*{SHARDS_SUFFIX}/*/*.eval"))
    assert [len(read_eval_log(str(p)).samples or []) for p in shard_logs] == [10] * 4
    assert _scores(merged) == _scores(whole)
    assert list(_scores(merged)) == list(range(1, N + 1))  # ids unique, dataset order
    a, b = read_eval_log(str(whole)), read_eval_log(str(merged))
    assert b.status == "success" and b.eval.task == a.eval.task and b.eval.model == a.eval.model
    assert b.eval.dataset.sample_ids == a.eval.dataset.sample_ids
    assert b.eval.task_args_passed == a.eval.task_args_passed == ARGS
    assert b.results is not None and a.results is not None
    assert b.results.total_samples == a.results.total_samples == N
    assert b.results.scores[0].metrics["mean"].value == a.results.scores[0].metrics["mean"].value
    assert b.eval.shards is not None and len(b.eval.shards.ledger) == 4
    # the merge writes the zip itself: Inspect's other readers see the same samples
    assert [s.id for s in read_eval_log_sample_summaries(str(merged))] == list(range(1, N + 1))
    assert read_eval_log_sample(str(merged), id=7).scores == a.samples[6].scores  # type: ignore[index]
    # the statistics read it like any suite's log
    assert read_suite(merged).outcomes == read_suite(whole).outcomes

    # a rerun runs nothing: the merged log is reused, as an unsharded evaluate would
    again: list[str] = []
    assert evaluate_sharded(REPLIES, NAME, ARGS, 4, tmp_path / "sharded", again.append) == merged
    assert again == [f"base / {NAME}: reusing finished log {merged.name}"]
    assert evaluate_stage(REPLIES, [NAME], ARGS, tmp_path / "sharded", again.append) == {
        NAME: merged
    }


def _audit_on_questions(tmp_path: Path, n: int) -> tuple[StageModel, dict[str, Any]]:
    """A user-log file of n questions, and the mock model that answers them for the audit."""
    import json

    source = tmp_path / "logs.jsonl"
    source.write_text("".join(json.dumps({"conversation": [
        {"role": "user", "content": f"question {i}"}]}) + "\n" for i in range(n)))  # fmt: skip
    model = StageModel("base", "mockllm/model", "audit-replies", provider="inspect",
                       model_args=(("custom_outputs", shard_tiny.audit_replies),))  # fmt: skip
    return model, {"source": f"userlogs:{source}"}


def test_a_sharded_audit_counts_the_results_one_eval_computes(tmp_path: Path) -> None:
    """The audit's metrics are counted sample by sample in the merge, not recomputed from
    every score kept in memory: the merged results must equal an unsharded eval's."""
    from inspect_ai.log import read_eval_log

    model, args = _audit_on_questions(tmp_path, 26)
    whole = evaluate_stage(model, ["user_audit"], args, tmp_path / "whole", lambda _: None)
    merged = evaluate_sharded(model, "user_audit", args, 3, tmp_path / "sharded", lambda _: None)
    a = read_eval_log(str(whole["user_audit"]), header_only=True).results
    b = read_eval_log(str(merged), header_only=True).results
    assert a is not None and b is not None

    def layout(results: Any) -> list[Any]:
        return [(s.name, s.scorer, s.scored_samples, s.unscored_samples,
                 {k: m.value for k, m in s.metrics.items()}) for s in results.scores]  # fmt: skip

    assert layout(b) == layout(a)
    assert (b.total_samples, b.completed_samples) == (a.total_samples, a.completed_samples)
    rates = {s.name: s.metrics["stagelens/event_rate"].value for s in b.scores}
    assert 0 < rates["refusal"] < 1 and 0 < rates["eval_awareness"] < 1


def test_scores_read_member_by_member_equal_inspects_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The statistics parse a log's samples one zip member at a time (flat memory, a tenth of
    Inspect's time on a 50,000-sample audit); what they read must be what Inspect reads."""
    import json
    import zipfile

    from inspect_ai.scorer import Score

    from stagelens.evaluate import log_samples, runner

    model, args = _audit_on_questions(tmp_path, 11)
    merged = evaluate_sharded(model, "user_audit", args, 2, tmp_path, lambda _: None)

    def key(sample: runner.ScoredSample) -> tuple[str, int]:
        return sample.id, sample.epoch

    fast = list(log_samples.scored_samples(merged))
    assert all(isinstance(s, log_samples.SampleScores) for s in fast)
    by_inspect = list(log_samples._read_by_inspect(merged))
    assert len(fast) == len(by_inspect) == 11
    for ours, theirs in zip(sorted(fast, key=lambda s: str(s.id)),
                            sorted(by_inspect, key=lambda s: str(s.id)), strict=True):  # fmt: skip
        assert (ours.id, ours.epoch, ours.metadata) == (theirs.id, theirs.epoch, theirs.metadata)
        assert json.dumps({k: v.model_dump() for k, v in ours.scores.items()}) == json.dumps(
            {k: v.model_dump() for k, v in theirs.scores.items()})  # NaN compares unequal
    scored = runner.read_scored(merged)
    refusals = {str(s.scores["audit_offline"][0]["refusal"]) for s in scored.samples}
    assert refusals == {"0.0", "1.0", "nan"}  # refused, answered, unscored
    assert scored.epochs == 1 and len({key(s) for s in scored.samples}) == 11
    # equal scores are kept once (NaN included), so 150,000 samples' records stay small
    distinct = {id(s.scores) for s in scored.samples}
    assert len(distinct) == len({json.dumps(s.scores) for s in scored.samples}) < 11
    # 1, 1.0 and True would read alike as outcomes but not as labels: never shared
    shared: dict[Any, Any] = {}
    as_int, as_float = ({"refusal": Score(value={"refusal": v})} for v in (1, 1.0))
    a = runner._scored(log_samples.SampleScores("a", 1, {}, as_int), shared)
    b = runner._scored(log_samples.SampleScores("b", 1, {}, as_float), shared)
    assert a.scores is not b.scores and str(a.scores["refusal"][0]) != str(b.scores["refusal"][0])

    # a log whose compression this Python lacks is read by Inspect
    with zipfile.ZipFile(merged) as archive:
        members = archive.infolist()
        assert log_samples._readable(archive, members)
        members[0].compress_type = 97  # WavPack: no Python reads it
        assert not log_samples._readable(archive, members)
    monkeypatch.setattr(log_samples, "_readable", lambda *_: False)
    again = list(log_samples.scored_samples(merged))
    assert len(again) == 11 and not any(isinstance(s, log_samples.SampleScores) for s in again)


def test_merge_is_redone_from_shard_logs_without_generating(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    stage = shard_tiny.counting_stage(counter, 0.0)
    merged = evaluate_sharded(stage, NAME, ARGS, 3, tmp_path, lambda _: None)
    generated = counter.read_text().split()
    assert sorted(map(int, generated)) == list(range(N))
    merged.unlink()  # e.g. lost before the statistics ran: the shards are reused
    assert evaluate_sharded(stage, NAME, ARGS, 3, tmp_path, lambda _: None) == merged
    assert counter.read_text().split() == generated
    assert list(_scores(merged)) == list(range(1, N + 1))


def _flushed(log_dir: Path, shard: str) -> list[Any]:
    """Sample ids written to the .eval file of one shard (none while it cannot be read)."""
    from inspect_ai.log import read_eval_log_sample_summaries

    for path in log_dir.glob(f"*{SHARDS_SUFFIX}/{shard}/*.eval"):
        try:
            return [s.id for s in read_eval_log_sample_summaries(str(path))]
        except Exception:  # being written at this instant
            return []
    return []


def test_kill_9_mid_shard_loses_and_repeats_nothing(tmp_path: Path) -> None:
    log_dir, counter, judged = tmp_path / "logs", tmp_path / "counter", tmp_path / "judged"
    counter.touch()
    # the child gets the test's environment: its own sample buffer (XDG_DATA_HOME)
    env = {**os.environ, shard_tiny.JUDGED: str(judged)}
    cmd = [sys.executable, "-c",
           "import sys; from tests.integration.shard_tiny import main; main(sys.argv[1:])",
           str(log_dir), str(counter), "4", "0.05"]  # fmt: skip
    child = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)  # fmt: skip
    try:
        # kill once shard 1 has written some samples to its file (Inspect flushes every
        # few) and generated more, which only Inspect's realtime buffer holds yet
        while len(_flushed(log_dir, "1-of-4")) < 3 or len(counter.read_text().split()) < 15:
            assert child.poll() is None, child.communicate()[0].decode()[-3000:]
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.communicate()
    before = [int(x) + 1 for x in counter.read_text().split()]  # prompt i is sample id i+1
    judged_before = len(judged.read_text().split())
    written = set(_flushed(log_dir, "1-of-4"))
    assert set(range(1, 11)) < set(before) and written and max(before) < N

    rerun = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "resuming" in rerun.stdout and "reusing finished log" in rerun.stdout
    merged = Path(rerun.stdout.split("MERGED ")[-1].strip())

    after = [int(x) + 1 for x in counter.read_text().split()][len(before) :]
    counts = Counter(before + after)
    regenerated = {i for i, c in counts.items() if c > 1}
    assert set(counts) == set(range(1, N + 1)) and max(counts.values()) <= 2
    # a sample written before the kill is never generated again; one samples at a time
    # (max_samples=1) means at most the sample in flight at the kill is
    assert not regenerated & written
    assert regenerated <= set(before) - written and len(regenerated) <= 1
    # scoring (a judge's place) alike: every sample scored, none twice but the one in flight
    scored = Counter(int(x) + 1 for x in judged.read_text().split())
    assert set(scored) == set(range(1, N + 1))
    assert {i for i, c in scored.items() if c > 1} <= regenerated
    # kept in Inspect's realtime buffer though not yet in the file: recovered, not redone
    print(f"kill -9: {len(before)} generated and {judged_before} scored before, {len(written)} "
          f"of shard 1 in its file, {len(after)} generated after, regenerated "
          f"{sorted(regenerated)}, scored twice {sorted(i for i, c in scored.items() if c > 1)}")
    assert list(_scores(merged)) == list(range(1, N + 1))  # every sample once, in order
    right = {i + 1: float(shard_tiny.reply(shard_tiny.prompt(i)) == shard_tiny.target(i))
             for i in range(N)}  # fmt: skip
    assert _scores(merged) == right


@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="ray is not installed (pip install -c requirements.lock -e '.[dev]')",
)
def test_ray_workers_match_single_process(tmp_path: Path) -> None:
    import ray

    whole = evaluate_stage(REPLIES, [NAME], ARGS, tmp_path / "whole", lambda _: None)[NAME]
    # two local workers; this process's sys.path (the repo root) reaches them, so they
    # import the test suite's module, and the suite registration travels with each shard
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        messages: list[str] = []
        merged = evaluate_sharded(REPLIES, NAME, ARGS, 4, tmp_path / "ray", messages.append,
                                  ray_address="local")  # fmt: skip
    finally:
        ray.shutdown()
    assert sum("done" in m for m in messages) == 4
    assert _scores(merged) == _scores(whole)
    assert list(_scores(merged)) == list(range(1, N + 1))
    assert read_suite(merged).outcomes == read_suite(whole).outcomes
