"""A spec's [sweep] table: dosing the real mixture, and bad input refused before training."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from stagelens.errors import UserError
from stagelens.experiment.spec_sweep import plan_sweep
from stagelens.spec import load_spec
from stagelens.spec.sweep import dosed_recipe

HEAD = '''family = "tiny"
[[stages]]
name = "base"
model = { path = "base" }
[[stages]]
name = "production"
model = { path = "base" }
[sft]
chat_template = "{{ messages }}"
eos_token = "</s>"
[[sft.mixture]]
name = "safety"
path = "safety.jsonl"
weight = 2.0
provenance = { source = "test", licence = "CC0-1.0", distilled_from_rl_model = true }
[[sft.mixture]]
name = "chat"
path = "chat.jsonl"
provenance = { source = "test", licence = "CC0-1.0" }
[[suites]]
name = "unsafe_response"
source = "jsonl:prompts.jsonl"
rater = "refusal-strings"
'''


def _spec(tmp_path: Path, sweep: str, head: str = HEAD) -> Path:
    for name, n in (("safety", 20), ("chat", 10), ("human", 20)):
        rows = [{"prompt": f"{name} {i}", "completion": f"answer {i}"} for i in range(n)]
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = tmp_path / "spec.toml"
    path.write_text(head + sweep)
    return path


SWAP = '''
[sweep.swap_to]
name = "human"
path = "human.jsonl"
provenance = { source = "written by people", licence = "CC0-1.0", distilled_from_rl_model = false }
'''


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ('[sweep]\npart = "safty"\n', "sweep.part 'safty': no \\[\\[sft.mixture\\]\\] part"),
        ('[sweep]\npart = "safety"\ndoses = [0, -0.5, 1]\n', "non-negative"),
        ('[sweep]\npart = "safety"\ndoses = [0.5, 1, 0.5]\n', "doses repeat"),
        ('[sweep]\npart = "safety"\ndoses = []\n', "at least one dose"),
        ('[sweep]\npart = "safety"\nseeds = [1, 1]\n', "seeds repeat"),
        ('[sweep]\ndoses = [0, 1]\n', "give 'part'"),
        ('[sweep]\npart = "safety"\nleave_out_each = true\n', "takes no 'part'"),
        ('[sweep]\npart = "safety"\ndoses = [0, 2]\n' + SWAP, "doses above 1"),
        ('[sweep]\npart = "safety"\n' + SWAP.replace("false", "true"), "cannot remove"),
        ('[sweep]\npart = "safety"\n' + SWAP.replace('"human"', '"chat"', 1),
         "already a part of the mixture"),
        ('[sweep]\npart = "safety"\ncolour = 1\n', "colour"),
    ],
)  # fmt: skip
def test_bad_sweep_tables_name_the_file_line_and_field(
    tmp_path: Path, sweep: str, message: str
) -> None:
    path = _spec(tmp_path, sweep)
    with pytest.raises(UserError, match=message) as err:
        load_spec(path)
    found = re.search(r"spec\.toml:(\d+): field 'sweep[.a-z_]*'", str(err.value))
    assert found is not None, str(err.value)
    # the line of the [sweep] table or of the offending key in it
    assert HEAD.count("\n") + 1 <= int(found.group(1)) <= path.read_text().count("\n")


def test_a_dose_multiplies_only_its_parts_weight_and_a_swap_takes_the_rest(
    tmp_path: Path,
) -> None:
    spec = load_spec(_spec(tmp_path, '[sweep]\npart = "safety"\n' + SWAP))
    assert spec.sweep is not None and spec.sweep.swap_to is not None
    weights = {p.name: p.weight for p in dosed_recipe(spec.sft, "safety", 0.25).mixture}
    assert weights == {"safety": 0.5, "chat": 1.0}
    assert [p.name for p in dosed_recipe(spec.sft, "safety", 0).mixture] == ["chat"]
    swapped = dosed_recipe(spec.sft, "safety", 0.25, swap_to=spec.sweep.swap_to, seed=7)
    assert {p.name: p.weight for p in swapped.mixture} == {"human": 1.5, "safety": 0.5,
                                                            "chat": 1.0}  # fmt: skip
    assert swapped.seed == 7 and spec.sft.seed == 0  # the spec's recipe is untouched
    # the counterpart's path was resolved beside the spec, like the mixture's
    assert Path(spec.sweep.swap_to.path or "").is_absolute()


def test_each_point_reads_its_mixture_before_anything_trains(tmp_path: Path) -> None:
    spec_path = _spec(tmp_path, '[sweep]\npart = "safety"\ndoses = [0, 0.5, 1, 2]\n'
                                'seeds = [0, 3]\n')  # fmt: skip
    points = plan_sweep(load_spec(spec_path), spec_path)
    assert [(p.seed, p.dose) for p in points] == [(s, d) for s in (0, 3) for d in (0, 0.5, 1, 2)]
    assert [p.count("safety") for p in points[:4]] == [0, 20, 40, 80]  # 20 rows x weight 2
    assert all(p.count("chat") == 10 for p in points)
    assert len({p.stage for p in points}) == 8 and points[2].recipe.seed == 0
    assert points[6].recipe.seed == 3


def test_leaving_each_part_out_plans_the_full_mixture_and_one_point_per_part(
    tmp_path: Path,
) -> None:
    spec_path = _spec(tmp_path, "[sweep]\nleave_out_each = true\n")
    points = plan_sweep(load_spec(spec_path), spec_path)
    assert [(p.stage, p.part) for p in points] == [
        ("seed0_full", None), ("seed0_without_safety", "safety"), ("seed0_without_chat", "chat")]
    assert points[1].count("safety") == 0 and points[1].count("chat") == 10


def test_doses_that_read_the_same_rows_are_one_sft_run_and_refused(tmp_path: Path) -> None:
    # 20 rows x weight 2 x 0.001 rounds to 0 rows: the mixture of dose 0
    spec_path = _spec(tmp_path, '[sweep]\npart = "safety"\ndoses = [0, 0.001, 1]\n')
    with pytest.raises(UserError, match=r"seed0_dose_0_001 reads the same rows .* as seed0_dose_0"):
        plan_sweep(load_spec(spec_path), spec_path)


def test_a_spec_without_a_sweep_table_or_with_an_unreadable_part_is_refused(
    tmp_path: Path,
) -> None:
    spec_path = _spec(tmp_path, "")
    with pytest.raises(UserError, match="no \\[sweep\\] table"):
        plan_sweep(load_spec(spec_path), spec_path)
    spec_path = _spec(tmp_path, '[sweep]\npart = "safety"\n' + SWAP)
    (tmp_path / "human.jsonl").write_text('{"prompt": "x"}\n')
    with pytest.raises(UserError, match=r"sweep point seed0_dose_0: .*human.jsonl:1: missing"):
        plan_sweep(load_spec(spec_path), spec_path)


def test_the_command_refuses_organism_options_with_a_spec_and_writes_nothing(
    tmp_path: Path,
) -> None:
    from stagelens.cli.main import main

    spec_path = _spec(tmp_path, '[sweep]\npart = "safety"\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sweep", str(spec_path), "--part", "chat",
                                       "--out", str(out)])  # fmt: skip
    assert result.exit_code == 2 and "--part: the organism's option" in result.output
    bad = _spec(tmp_path, '[sweep]\npart = "safety"\ndoses = [0, -1]\n')
    result = CliRunner().invoke(main, ["sweep", str(bad), "--offline", "--out", str(out)])
    assert result.exit_code != 0 and "non-negative" in result.output
    assert "spec.toml:" in result.output
    assert not out.exists()
