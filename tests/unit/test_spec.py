"""Experiment specs: the examples load, and every bad input fails naming file, line or field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stagelens.errors import UserError
from stagelens.spec import ExperimentSpec, SpecError, check_spec, load_spec, require_valid
from stagelens.spec.load import package_dir, resolve_path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHATML = (
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] "
    "+ '<|im_end|>\\n' }}{% endfor %}"
)


def _spec_text(
    *,
    base: str = 'path = "base"',
    production: str = 'inspect = "mockllm/model"',
    stage3: str = "",
    sft_extra: str = "",
    template: str | None = CHATML,
    eos: str = "<|im_end|>",
    mixture: str = "data.jsonl",
) -> str:
    template_line = f"chat_template = {json.dumps(template)}\n" if template is not None else ""
    return f"""family = "test"

[[stages]]
name = "base"
model = {{ {base} }}

[[stages]]
name = "production"
model = {{ {production} }}
{stage3}
[sft]
{template_line}eos_token = "{eos}"
{sft_extra}
[[sft.mixture]]
name = "tiny"
path = "{mixture}"

[sft.mixture.provenance]
source = "test"
licence = "CC0-1.0"

[[suites]]
name = "unsafe_response"
source = "harmbench"
rater = "refusal-strings"
"""


def _tiny_tokenizer(directory: Path, tokens: list[str]) -> None:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(["[UNK]", *tokens])}
    tok = Tokenizer(WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = WhitespaceSplit()
    fast: Any = PreTrainedTokenizerFast  # transformers is only partly typed
    fast(tokenizer_object=tok, unk_token="[UNK]").save_pretrained(directory)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A spec directory with a base tokenizer (knowing <|im_end|>) and a valid mixture."""
    _tiny_tokenizer(tmp_path / "base", ["hello", "<|im_end|>"])
    chat = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]
    rows: list[dict[str, object]] = [{"messages": chat}, {"prompt": "a", "completion": "b"}]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


@pytest.fixture
def run_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A run directory that load and check must leave empty: they never write.

    It is also the working directory, so a stray write to a relative path lands in it.
    """
    run = tmp_path_factory.mktemp("run")
    monkeypatch.chdir(run)
    yield run
    assert list(run.rglob("*")) == []


def _write(directory: Path, text: str) -> Path:
    path = directory / "spec.toml"
    path.write_text(text)
    return path


def _line(path: Path, needle: str) -> int:
    return next(i for i, t in enumerate(path.read_text().splitlines(), 1) if needle in t)


# --- the examples -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["olmo2-1b", "tulu3-8b"])
def test_hub_examples_resolve(name: str) -> None:
    spec = load_spec(EXAMPLES / f"{name}.toml")
    assert spec.base.model.hub and spec.production.model.hub
    assert [s.name for s in spec.stages] == ["base", "sft", "dpo", "production"]
    assert spec.sft.mixture[0].hub and spec.sft.mixture[0].hub.startswith("allenai/tulu-3-sft")
    assert spec.sft.mixture[0].provenance.licence.startswith("ODC-BY-1.0")
    assert spec.sft.mixture[0].provenance.distilled_from_rl_model is True
    assert spec.hardware and spec.expectations and "93.1" in spec.expectations
    assert spec.sft_only is None
    # offline: hub refs are skipped, only the recipe's template is rendered
    problems = check_spec(spec, offline=True)
    assert all(p.startswith("suites.") for p in problems), problems


def test_smollm2_example_checks_offline(run_dir: Path) -> None:
    spec = load_spec(EXAMPLES / "smollm2-135m-gguf.toml")
    gguf = spec.production.model.gguf
    assert gguf and Path(gguf).is_absolute() and Path(gguf).is_file()
    assert spec.sft_only == spec.base.model == spec.production.model
    assert spec.sft.mixture[0].path == str(EXAMPLES / "data" / "tiny_sft.jsonl")
    assert [(s.name, s.n, s.max_tokens) for s in spec.suites] == [
        ("unsafe_response", 50, 96),
        ("over_refusal", 50, 96),
        ("alignment_dilemmas", 60, 128),
    ]
    assert check_spec(spec, offline=True) == []


def test_smollm2_sweep_example_checks_offline_and_plans_four_points(run_dir: Path) -> None:
    from stagelens.experiment.spec_sweep import plan_sweep

    path = EXAMPLES / "smollm2-135m-sweep.toml"
    spec = load_spec(path)
    assert check_spec(spec, offline=True) == []
    points = plan_sweep(spec, path)
    # 64 rows at every dose; the refusal part's share moves
    assert [p.count("refusals") for p in points] == [0, 13, 32, 48]
    assert all(sum(m.n or 0 for m in p.mixture) == 64 for p in points)
    for part in spec.sft.mixture:  # hand-written for the examples: no benchmark canary
        assert part.provenance.licence == "CC0-1.0"
        assert part.provenance.distilled_from_rl_model is False


# --- loading --------------------------------------------------------------------------------


def test_valid_spec_passes(project: Path, run_dir: Path) -> None:
    spec = load_spec(_write(project, _spec_text()))
    assert isinstance(spec, ExperimentSpec)
    assert spec.seeds == [0] and spec.margin == 0.05 and spec.judges == []
    assert spec.suites[0].n == 0 and spec.suites[0].samples_per_prompt == 1
    assert spec.production.model.describe() == "inspect:mockllm/model"
    assert check_spec(spec, offline=True) == []
    require_valid(spec, offline=True)


def test_unknown_field_names_file_line_and_field(project: Path, run_dir: Path) -> None:
    path = _write(project, _spec_text(production='pth = "x"'))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    line = _line(path, 'pth = "x"')
    assert f"{path}:{line}: field 'stages.1.model.pth': Extra inputs are not permitted" in str(
        err.value
    )
    assert isinstance(err.value, UserError)


def test_missing_chat_template_names_sft_table(project: Path, run_dir: Path) -> None:
    path = _write(project, _spec_text(template=None))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert f"{path}:{_line(path, '[sft]')}: field 'sft.chat_template': Field required" in str(
        err.value
    )


def test_malformed_mixture_line_17(project: Path, run_dir: Path) -> None:
    good = json.dumps({"prompt": "p", "completion": "c"})
    lines = [good] * 16 + ['{"prompt": "p", "completion": '] + [good] * 3
    (project / "data.jsonl").write_text("\n".join(lines) + "\n")
    spec = load_spec(_write(project, _spec_text()))
    problems = check_spec(spec, offline=True)
    assert len(problems) == 1 and f"{project / 'data.jsonl'}:17: not valid JSON" in problems[0]
    with pytest.raises(SpecError, match=r"data\.jsonl:17"):
        require_valid(spec, offline=True)


def test_mixture_row_without_messages_or_prompt(project: Path, run_dir: Path) -> None:
    (project / "data.jsonl").write_text('{"text": "no chat"}\n')
    problems = check_spec(load_spec(_write(project, _spec_text())), offline=True)
    assert problems and "data.jsonl:1: needs a 'messages' list" in problems[0]


def test_missing_stage_path_names_field(project: Path, run_dir: Path) -> None:
    stage3 = '\n[[stages]]\nname = "sft"\nmodel = { path = "nowhere" }\n'
    spec = load_spec(_write(project, _spec_text(stage3=stage3)))
    problems = check_spec(spec, offline=True)
    assert problems == [f"stages.2.model.path: {project / 'nowhere'} does not exist"]
    with pytest.raises(SpecError, match=r"stages\.2\.model\.path: .*nowhere does not exist"):
        require_valid(spec, offline=True)


def test_relative_and_package_paths_resolve(project: Path, tmp_path: Path) -> None:
    stage3 = '\n[[stages]]\nname = "sft"\nmodel = { gguf = "${package:pytest}/x.gguf" }\n'
    spec = load_spec(_write(project, _spec_text(stage3=stage3, mixture="../p/d.jsonl")))
    assert spec.base.model.path == str(project / "base")
    assert spec.stage("sft").model.gguf == str(package_dir("pytest") / "x.gguf")
    assert spec.sft.mixture[0].path == str(project.parent / "p" / "d.jsonl")
    assert resolve_path("/abs/file", tmp_path) == "/abs/file"
    assert resolve_path("${package:pytest}", tmp_path) == str(package_dir("pytest"))


def test_unknown_package_fails_with_line(project: Path) -> None:
    path = _write(project, _spec_text(base='gguf = "${package:no_such_pkg_xyz}/m.gguf"'))
    with pytest.raises(SpecError, match=r"spec\.toml:\d+: field 'stages\.0\.model\.gguf'.*"):
        load_spec(path)


def test_duplicate_stage_names_fail(project: Path) -> None:
    stage3 = '\n[[stages]]\nname = "base"\nmodel = { hub = "org/m" }\n'
    with pytest.raises(SpecError, match="stage names must be unique; repeated: base"):
        load_spec(_write(project, _spec_text(stage3=stage3)))


def test_missing_production_stage_fails(project: Path) -> None:
    text = _spec_text().replace('name = "production"', 'name = "dpo"')
    with pytest.raises(SpecError, match=r"field 'stages'.*missing: production"):
        load_spec(_write(project, text))


def test_model_ref_needs_exactly_one_source(project: Path) -> None:
    with pytest.raises(SpecError, match="exactly one of 'path', 'hub', 'gguf' or 'inspect'"):
        load_spec(_write(project, _spec_text(production='hub = "a/b", path = "c"')))
    with pytest.raises(SpecError, match="'revision' only applies to 'hub'"):
        load_spec(_write(project, _spec_text(production='path = "c", revision = "main"')))


def test_eos_not_in_tokenizer_fails(project: Path, run_dir: Path) -> None:
    spec = load_spec(_write(project, _spec_text(eos="</s>", template=CHATML + "{{ '</s>' }}")))
    problems = check_spec(spec, offline=True)
    assert len(problems) == 1 and problems[0].startswith("sft.eos_token: '</s>' is not a single")


def test_template_without_eos_fails(project: Path, run_dir: Path) -> None:
    template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    spec = load_spec(_write(project, _spec_text(template=template)))
    problems = check_spec(spec, offline=True)
    assert problems and "does not contain the eos token" in problems[0]


def test_template_that_does_not_render_fails(project: Path, run_dir: Path) -> None:
    spec = load_spec(_write(project, _spec_text(template="{{ raise_exception('no roles') }}")))
    problems = check_spec(spec, offline=True)
    assert problems and "does not render" in problems[0] and "no roles" in problems[0]


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "absent.toml")
