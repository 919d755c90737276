"""`stagelens-hf`: Inspect's hf provider with a batch scheduler that does not idle.

Inspect's hf provider (0.3.285) hands each request to a background thread that
waits for 2 s without new requests before it generates, while every waiting
sample polls for its result once a second. On the organism (generation takes
~0.2 s for 320 prompts) that made one 320-prompt suite take 10-18 s instead of
the ~3 s Inspect itself needs. This subclass keeps everything else of the hf
provider (loading, chat template, tokenizer settings) and replaces only the
scheduling: a batch gathers requests until none has arrived for 50 ms, is
generated at once, and each sample resumes the moment its batch is done (the loop gets a
moment between batches for those samples to finish).
Requests with tools or logprobs go to the stock path.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import Any

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    ModelInfo,
    ModelOutput,
    ModelUsage,
    set_model_info,
)
from inspect_ai.model._providers.hf import HuggingFaceAPI
from inspect_ai.tool import ToolChoice, ToolInfo

GATHER_SECONDS = 0.05  # a batch closes once no request has joined it for this long
# Between batches the loop runs this long: long enough for the finished batch's samples to be
# scored and written (without it a 300-prompt run finished no sample until its last batch, and
# a kill lost them all), short beside a batch's generation
BATCH_YIELD_SECONDS = 0.2
# A batch is padded to its longest prompt: its size x that length is capped, so that a few
# long prompts (agentic-misalignment's inboxes, ~4k tokens) neither pad a hundred short ones
# nor fill the memory (117 prompts at once took 17 GB and rising on CPU with SmolLM2-135M).
BATCH_TOKENS_ENV = "STAGELENS_BATCH_TOKENS"
BATCH_TOKENS = {"cpu": 32_768, "accelerator": 1_048_576}


def next_batch(lengths: list[int], max_batch: int, budget: int) -> list[int]:
    """Indices of the next batch: the shortest prompts first, as many as fit `max_batch` and
    `budget` (size x longest prompt); always at least one, however long."""
    chosen: list[int] = []
    longest = 0
    for i in sorted(range(len(lengths)), key=lambda i: (lengths[i], i)):
        width = max(longest, lengths[i])
        if chosen and (len(chosen) + 1 > max_batch or (len(chosen) + 1) * width > budget):
            break
        chosen.append(i)
        longest = width
    return chosen


@dataclass
class _Pending:
    prompt: str
    future: asyncio.Future[tuple[str, int, int]]
    tokens: int


@dataclass
class _Batcher:
    max_batch: int
    queues: dict[tuple[Any, ...], list[_Pending]] = field(default_factory=dict)
    flushing: dict[tuple[Any, ...], asyncio.Task[None]] = field(default_factory=dict)


class BatchedHuggingFaceAPI(HuggingFaceAPI):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        name = kwargs.get("model_name", args[0] if args else "")
        if kwargs.get("model_path") is None and name:
            # a model string alone can name local weights (a judge has no model args):
            # stagelens-hf/smollm2-135m-instruct, stagelens-hf//path/to/dir or /file.gguf
            from stagelens.evaluate.gguf import local_weights

            local = local_weights(str(name))
            if local is not None:
                kwargs["model_path"] = str(local)
        super().__init__(*args, **kwargs)
        path = kwargs.get("model_path")
        if path is not None:
            # without it Inspect looks the model up by name later (context window), builds a
            # second provider without model_path and asks the hub for "<name>/config.json":
            # five retries and a screen of warnings offline, for weights that are local
            info = ModelInfo(organization="stagelens", model=str(path))
            set_model_info(f"stagelens-hf/{self.model_name}", info)
        # a batch of 128 prompts fits a 7-8B model on one 80 GB GPU at a few hundred new
        # tokens; pass model arg batch_size to change it
        self._batcher = _Batcher(max_batch=int(self.batch_size or 128))
        device = "cpu" if str(getattr(self.model, "device", "cpu")) == "cpu" else "accelerator"
        self._batch_tokens = int(os.environ.get(BATCH_TOKENS_ENV) or BATCH_TOKENS[device])

    async def generate(  # type: ignore[override]
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        if tools or config.logprobs or config.stop_seqs or self.hidden_states:
            return await super().generate(input, tools, tool_choice, config)
        options: dict[str, Any] = {"do_sample": self.do_sample}
        for name, value in (
            ("max_new_tokens", config.max_tokens),
            ("temperature", config.temperature),
            ("top_p", config.top_p),
            ("top_k", config.top_k),
        ):
            if value is not None:
                options[name] = value
        if options.get("temperature") == 0:
            # temperature 0 means greedy (as judges ask); transformers rejects it as a value
            for name in ("temperature", "top_p", "top_k"):
                options.pop(name, None)
            options["do_sample"] = False
        start = time.monotonic()
        text, n_in, n_out = await self._submit(self.hf_chat(input, tools), options)
        message = ChatMessageAssistant(content=text, model=self.model_name, source="generate")
        return ModelOutput(
            model=self.model_name,
            choices=[ChatCompletionChoice(message=message, stop_reason="stop")],
            usage=ModelUsage(input_tokens=n_in, output_tokens=n_out, total_tokens=n_in + n_out),
            time=time.monotonic() - start,
        )

    async def _submit(self, prompt: str, options: dict[str, Any]) -> tuple[str, int, int]:
        key = tuple(sorted(options.items()))
        future: asyncio.Future[tuple[str, int, int]] = asyncio.get_running_loop().create_future()
        tokens = len(self.tokenizer(prompt, **(self.tokenizer_call_args or {}))["input_ids"])
        self._batcher.queues.setdefault(key, []).append(_Pending(prompt, future, tokens))
        if key not in self._batcher.flushing:
            # the reference keeps the task alive until it has flushed its queue
            self._batcher.flushing[key] = asyncio.create_task(self._flush(key, options))
        return await future

    async def _flush(self, key: tuple[Any, ...], options: dict[str, Any]) -> None:
        try:
            queue = self._batcher.queues[key]
            # wait until requests stop arriving: Inspect starts samples one by one over
            # tens of milliseconds, and a batch cut early means a second full generation
            while True:
                seen = len(queue)
                await asyncio.sleep(GATHER_SECONDS)
                if len(queue) == seen or len(queue) >= self._batcher.max_batch:
                    break
            while queue:
                picked = next_batch([p.tokens for p in queue], self._batcher.max_batch,
                                    self._batch_tokens)  # fmt: skip
                batch = [queue[i] for i in picked]
                for i in sorted(picked, reverse=True):
                    del queue[i]
                # Generation runs on the event loop's own thread: every sample that will join
                # has joined, and on CPU a worker thread competing with Inspect's loop for the
                # cores made generation 22% slower (bench/eval_overhead.py, SmolLM2-135M).
                try:
                    results = self._generate_now([p.prompt for p in batch], options)
                except Exception as err:
                    for pending in batch:
                        pending.future.set_exception(err)
                    continue
                for pending, result in zip(batch, results, strict=True):
                    pending.future.set_result(result)
                if queue:
                    # the next batch blocks the loop: let this batch's samples finish first
                    # (scored and logged), so a killed run keeps them and progress shows them
                    await asyncio.sleep(BATCH_YIELD_SECONDS)
        finally:
            self._batcher.flushing.pop(key, None)

    def _generate_now(
        self, prompts: list[str], options: dict[str, Any]
    ) -> list[tuple[str, int, int]]:
        import torch

        encoded = self.tokenizer(
            prompts, return_tensors="pt", padding=True, **(self.tokenizer_call_args or {})
        )
        encoded = {k: v.to(self.model.device) for k, v in encoded.items()}
        with torch.inference_mode():
            sequences = self.model.generate(**encoded, **options)
        width = encoded["input_ids"].shape[1]
        new = sequences[:, width:]
        texts = self.tokenizer.batch_decode(
            new, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        pad = self.tokenizer.pad_token_id
        lengths = [int((row != pad).sum()) for row in new]
        prompt_lengths = [int(m.sum()) for m in encoded["attention_mask"]]
        return [
            (t.strip(), n_in, n_out)
            for t, n_in, n_out in zip(texts, prompt_lengths, lengths, strict=True)
        ]

    def max_connections(self) -> int:
        return 1024
