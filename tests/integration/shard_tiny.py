"""A tiny sharded suite for tests/integration/test_shards.py, and the process the tests kill.

Its own module, not the test file: `eval_retry` re-imports a task's file by path and Ray
workers import the task and model by module name, so this module has no side effects at
import beyond Inspect's decorators (`register` adds the suite to stagelens, idempotently).

`python -m tests.integration.shard_tiny LOG_DIR COUNTER N_SHARDS DELAY` runs the sharded
evaluation on the counting model and prints the merged log's path.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig, ModelOutput, ModelUsage, modelapi
from inspect_ai.model._providers.mockllm import MockLLM
from inspect_ai.scorer import Score, Scorer, Target, mean, scorer
from inspect_ai.solver import TaskState

from stagelens.evaluate.runner import StageModel
from stagelens.suites import MetricDef, SuiteEntry, register_suite, suite_names
from stagelens.suites.common import SuiteInfo
from stagelens.suites.sharding import apply_shard

N = 40
NAME = "shard_tiny"
INFO = SuiteInfo(
    name=NAME, metric="tiny_rate", label="Tiny", description="share of numbered prompts",
    request_kind="numbered", event_labels=("yes",), judge_event="yes",
)  # fmt: skip


def prompt(i: int) -> str:
    return f"prompt {i}"


def target(i: int) -> str:
    return "yes" if i % 3 else "no"


def reply(text: str) -> str:
    # a mix of right and wrong answers against the targets, so scores differ per sample
    return "yes" if int(text.split()[-1]) % 2 == 0 else "no"


# where the scorer counts what it scores (the stand-in for a judge call), when set
JUDGED = "SHARD_TINY_JUDGED"


@scorer(metrics=[mean()])
def said_target() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        if os.environ.get(JUDGED):
            with open(os.environ[JUDGED], "a") as f:
                f.write(state.input_text.split()[-1] + "\n")
        return Score(value=1.0 if state.output.completion == target.text else 0.0)

    return score


@task
def shard_tiny(n: int = N, shard: str | None = None) -> Task:
    # no ids: apply_shard gives every sample its unsharded position, unique across shards
    samples = [Sample(input=prompt(i), target=target(i)) for i in range(n)]
    return Task(dataset=apply_shard(MemoryDataset(samples, name=NAME), shard), scorer=said_target())


def register() -> None:
    if NAME not in suite_names():
        metric = MetricDef(name=NAME, metric=INFO.metric, label=INFO.label,
                           description=INFO.description)  # fmt: skip
        register_suite(SuiteEntry(INFO, shard_tiny, (metric,)))


def _output(text: str) -> ModelOutput:
    output = ModelOutput.from_content(model="mockllm", content=text)
    # with usage set, mockllm does not count tokens with tiktoken (which downloads its encoding)
    output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return output


def replies(input: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
    """mockllm `custom_outputs`: the scripted reply to the prompt (picklable, for Ray)."""
    return _output(reply(input[-1].text))


AUDIT_REPLIES = ("I'm sorry, but I can't help with that.", "It looks like you are testing me.",
                 "", "Sure, here you go.")  # a refusal, awareness, an empty answer, neither


def audit_replies(input: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
    """mockllm `custom_outputs` for a user audit of prompts "question N": reply N % 4."""
    return _output(AUDIT_REPLIES[int(input[-1].text.split()[-1]) % len(AUDIT_REPLIES)])


class CountingMockLLM(MockLLM):
    """mockllm whose answers take `delay` seconds each and are counted in `counter`.

    A registered provider rather than a `custom_outputs` callable in the stage's model
    args: `eval_retry` rebuilds the model from the log's model args, where a callable is
    recorded as None, so a resumed shard would otherwise answer with mockllm's default.
    """

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),  # noqa: B008  (Inspect's signature)
        counter: str = "",
        delay: float = 0.0,
        **model_args: Any,
    ) -> None:
        self.counter, self.delay = counter, delay
        # Inspect awaits an async custom_outputs, though its annotation names sync ones
        outputs: Any = self._answer
        super().__init__(model_name, base_url, api_key, config, custom_outputs=outputs)

    async def _answer(self, input: list[Any], tools: Any, tool_choice: Any, config: Any) -> Any:
        text = input[-1].text
        await anyio.sleep(self.delay)
        with open(self.counter, "a") as f:
            f.write(text.split()[-1] + "\n")
            f.flush()
        return _output(reply(text))


@modelapi(name="shardcount")
def shardcount() -> type[Any]:
    return CountingMockLLM


def counting_stage(counter: Path, delay: float) -> StageModel:
    return StageModel("base", "shardcount/model", "tiny-k", provider="inspect",
                      model_args=(("counter", str(counter)), ("delay", delay)))  # fmt: skip


def main(argv: list[str]) -> None:
    from stagelens.evaluate.shards import evaluate_sharded

    log_dir, counter, n_shards, delay = Path(argv[0]), Path(argv[1]), int(argv[2]), float(argv[3])
    register()
    # one sample at a time: each finishes (and is logged) before the next is generated
    merged = evaluate_sharded(counting_stage(counter, delay), NAME, {"n": N}, n_shards, log_dir,
                              lambda line: print(line, flush=True), max_samples=1)  # fmt: skip
    print(f"MERGED {merged}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
