"""Shared test helpers: scripted Inspect mock models that need no network."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

Script = Mapping[str, str]  # prompt text -> completion


def _mock_output(text: str) -> Any:
    from inspect_ai.model import ModelOutput, ModelUsage

    output = ModelOutput.from_content(model="mockllm", content=text)
    # with usage set, mockllm does not count tokens with tiktoken (which downloads its encoding)
    output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return output


def scripted_outputs(script: Script, default: str = "") -> Callable[..., Any]:
    """A mockllm `custom_outputs` callable answering each prompt from `script`.

    Answers are keyed by the prompt's text, not by call order, because Inspect runs
    samples concurrently and the order in which they reach the model is not fixed.
    """

    def outputs(input: list[Any], tools: Any, tool_choice: Any, config: Any) -> Any:
        return _mock_output(script.get(input[-1].text, default))

    return outputs


@pytest.fixture(autouse=True)
def _private_judge_cache(tmp_path_factory: Any, monkeypatch: Any) -> None:
    # judge verdicts are cached across runs; a test must never read or fill the user's
    # cache, nor see verdicts another test cached
    path = tmp_path_factory.mktemp("judge-cache") / "judgements.sqlite"
    monkeypatch.setenv("STAGELENS_JUDGE_CACHE", str(path))


@pytest.fixture
def offline_mockllm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Models named by string (spec stages, graders) get mockllm's default answers, whose
    token usage Inspect would count with tiktoken, downloading an encoding; fixed usage
    keeps such tests offline."""
    from inspect_ai.model import ModelOutput, ModelUsage
    from inspect_ai.model._providers.mockllm import MockLLM

    async def fixed_usage(self: Any, output: ModelOutput, *_: Any) -> None:
        if output.usage is None:
            output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)

    monkeypatch.setattr(MockLLM, "_ensure_default_usage", fixed_usage)


def phrasing_words(templates: tuple[str, ...]) -> set[str]:
    """The words of prompt phrasings, their slots left out."""
    out: set[str] = set()
    for template in templates:
        for slot in ("{act}", "{problem}", "{context}", "{pressure}", "{first}", "{second}"):
            template = template.replace(slot, " ")
        out.update(template.split())
    return out
