"""The results table: formatting, README update, and the recipes behind the shipped models."""

import pytest

from ngpu_lite.results import zoo


def fake_results() -> dict:
    row = {"20": {"exact": 1.0, "samples": 1024}, "2000": {"exact": 0.5, "samples": 64}}
    return {"rows": {"lstm-badd": row, "badd": row}, "paper": {"badd": {"20": 100, "2000": 100}},
            "models": {"badd": "Neural GPU (2016)"}}


def test_table_lists_models_in_book_order_with_case_counts_and_the_paper():
    """Catches rows out of order, a cell without its case count, the paper's figure left out, or
    a row that does not name its model (the measured architecture, else the shipped one's)."""
    table = zoo.table_markdown(fake_results())
    lines = table.splitlines()
    assert lines[0] == "| model, task | 20 bits | 2000 bits |"
    assert lines[2].startswith("| Neural GPU (2016), badd, 1 step per cell | 100.0% of 1024 "
                               "(paper 100%) | 50.0% of 64")
    assert lines[3].startswith("| LSTM + attention, badd |")
    unnamed = dict(fake_results(), models={})  # falls back to the shipped badd's config
    assert zoo.table_markdown(unnamed).splitlines()[2].startswith("| improved Neural GPU (2017), badd")


def test_each_row_names_its_steps_per_cell_and_a_paper_figure_its_own_protocol():
    """A row measured at 1.25 steps per input cell says so in its label, and the paper's figure
    beside it says it was measured at one step per cell; an unrecorded row takes the shipped
    model's step factor. Catches a row that hides a protocol the paper did not use."""
    res = dict(fake_results(), steps_per_cell={"badd": 1.25})
    row = zoo.table_markdown(res).splitlines()[2]
    assert row.startswith("| Neural GPU (2016), badd, 1.25 steps per cell | 100.0% of 1024 "
                          "(paper 100% at 1 step per cell)")
    shipped = {"rows": {"bmul": {"20": {"exact": 1.0, "samples": 8}}}, "paper": {}}
    assert zoo.steps_per_cell(shipped, "bmul") == zoo.RECIPES["bmul"].step_factor


def test_readme_table_is_replaced_between_its_markers(tmp_path):
    """Catches text outside the markers touched, or a README without markers written to."""
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- results:start -->\nold\n<!-- results:end -->\nrest\n")
    assert zoo.update_readme("| new |", readme)
    assert readme.read_text() == "intro\n<!-- results:start -->\n| new |\n<!-- results:end -->\nrest\n"
    plain = tmp_path / "other.md"
    plain.write_text("no markers")
    assert not zoo.update_readme("| new |", plain)
    readme.write_text("a\n<!-- families:start -->\nx\n<!-- families:end -->\n" + readme.read_text())
    assert zoo.update_readme("| fam |", readme, name="families")
    assert readme.read_text().startswith("a\n<!-- families:start -->\n| fam |\n<!-- families:end -->\n")
    assert "| new |" in readme.read_text()  # the results table untouched


def test_recipes_train_on_at_most_20_digits():
    """The paper trains on at most 20 digits: catches a recipe, or one of its fine-tune phases,
    that trains on the lengths it is tested on (DNGPU's length buckets included)."""
    from ngpu_lite.training import get_preset
    from ngpu_lite.training.presets import bin_digits

    for recipe in zoo.RECIPES.values():
        for overrides in [{}] + [o for _, o, _ in zoo.phases(recipe)]:
            p = get_preset(recipe.preset, **{**recipe.overrides, **overrides})
            assert p.max_digits <= 20
            assert all(d <= 20 for group in bin_digits(p.bins) for d in group), recipe.name


def test_length_buckets_past_max_digits_are_refused():
    """Catches buckets that train on longer operands than the manifest's `max_digits` says."""
    from ngpu_lite.training import get_preset

    with pytest.raises(ValueError, match="train on 31-digit operands, past max_digits 20"):
        get_preset("dngpu", bins=(8, 41, 64))
    assert get_preset("dngpu", bins=(8, 41, 64), max_digits=31).bins[-1] == 64


def test_merge_joins_tables_measured_in_parts_cell_by_cell(tmp_path, monkeypatch):
    """Catches a later table replacing a whole row instead of the cells it measured, or dropping
    the checkpoint hashes of the rows only the first file measured."""
    import json

    monkeypatch.setattr(zoo, "FIGURES_DIR", tmp_path)
    first = fake_results() | {"command": "a", "started": "t", "hardware": "cpu",
                              "sha256": {"badd": "aa", "copy": "cc"}}
    later = {"rows": {"badd": {"2000": {"exact": 1.0, "samples": 64}}}, "paper": first["paper"],
             "command": "b", "started": "t", "hardware": "cpu", "sha256": {"badd": "aa"}}
    (tmp_path / "a.json").write_text(json.dumps(first))
    (tmp_path / "b.json").write_text(json.dumps(later))
    assert zoo._main(["merge", "a.json", "b.json", "--name", "merged"]) == 0
    rows = json.loads((tmp_path / "merged.json").read_text())["rows"]
    assert rows["badd"]["20"]["samples"] == 1024 and rows["badd"]["2000"]["exact"] == 1.0
    assert json.loads((tmp_path / "merged.json").read_text())["sha256"] == {"badd": "aa", "copy": "cc"}
    assert (tmp_path / "merged.md").exists() and (tmp_path / "merged.png").exists()


def test_train_recipe_runs_the_recipe_of_the_task(tmp_path, monkeypatch):
    """Catches a recipe's seed, step cap, until-check, check interval or safety limit not passed
    to train, and a run stopped by the safety limit shipped as if it had run its steps."""
    from types import SimpleNamespace

    monkeypatch.setitem(zoo.RECIPES, "copy", zoo.Recipe("copy", preset="tiny", seeds=(4,), steps=77,
                                                        until=(12, 8), check_every=2))
    seen = {}
    run = SimpleNamespace(stopped="steps", steps=77)

    def fake_train(task, preset, **kw):
        seen.update(kw, task=task, preset=preset)
        return run

    monkeypatch.setattr(zoo, "train", fake_train)
    assert zoo.train_recipe("copy", tmp_path / "run", max_minutes=0.5) is run
    assert (seen["task"], seen["preset"], seen["seed"], seen["steps"]) == ("copy", "tiny", 4, 77)
    assert (seen["until"], seen["check_every"], seen["minutes"]) == ((12, 8), 2, 0.5)
    run.stopped = "minutes"
    with pytest.raises(zoo.BuildError, match="safety limit of 0.5 minutes at step 77"):
        zoo.train_recipe("copy", tmp_path / "run", max_minutes=0.5)
    assert "preset 'tiny'" in zoo.describe_recipe("copy")
    assert "8 fresh 12-bit cases" in zoo.describe_recipe("copy")


def test_shipped_models_are_described_from_their_manifests(tmp_path, monkeypatch):
    """Every number of the line comes from the manifest (a made-up one here, so reshipping a model
    does not break the test): catches a field read from the wrong key or a default shown."""
    import json

    from ngpu_lite.model import checkpoints

    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path)
    (tmp_path / "badd.json").write_text(json.dumps({
        "preset": "tiny", "seed": 3, "steps": 1234, "wall_seconds": 120, "hardware": "cpu: test",
        "recipe": {"max_digits": 12}}))
    assert zoo.describe_shipped("badd") == ("shipped badd: preset tiny, seed 3, 1234 steps, "
                                            "2 minutes on cpu: test, trained on at most 12-bit operands")


def test_build_of_one_seed_keeps_the_other_seeds_records_in_the_competition(tmp_path, monkeypatch):
    """Catches rebuilding one seed dropping the others' records, or keeping a stale record of the
    rebuilt seed."""
    from types import SimpleNamespace

    monkeypatch.setitem(zoo.RECIPES, "copy", zoo.Recipe("copy", preset="tiny", seeds=(0, 1)))
    monkeypatch.setattr(zoo, "ROOT", tmp_path)
    (tmp_path / "old-run").mkdir()
    old = {"seed": 1, "steps": 10, "minutes": 1.0, "stopped": "minutes", "exact_20": 1.0,
           "exact_200": 0.9, "per_symbol_200": 0.99, "folder": "old-run"}
    gone = old | {"seed": 0, "folder": "not-here"}  # rerun now: its old record is replaced
    monkeypatch.setattr(zoo, "_shipped_runs", lambda task: [gone, old])
    monkeypatch.setattr(zoo, "train_recipe", lambda *a, **k: SimpleNamespace(
        model=None, steps=20, seconds=60.0, stopped="steps"))
    monkeypatch.setattr(zoo, "_score", lambda model, task, digits, samples: {
        "exact": 0.5, "per_symbol": 0.9, "samples": samples})
    res = zoo.build("copy", runs_dir=tmp_path / "runs", seeds=(0,), ship=False, progress=False)
    assert [r["seed"] for r in res["runs"]] == [0, 1]
    assert res["runs"][0]["exact_200"] == 0.5
    assert res["kept"] == 1  # the old run of seed 1 scored better at 200 digits


def test_an_update_keeps_other_lengths_of_the_same_model_but_not_of_a_reshipped_one():
    """The bug this catches: re-measuring 20-200 bits of a re-shipped bmul kept the old model's
    2000-bit cell in the row, as if the new model had scored it."""
    cell = {"exact": 0.5, "samples": 64}
    old = {"rows": {"bmul": {"20": cell, "2000": cell}, "badd": {"20": cell}},
           "sha256": {"bmul": "aaa", "badd": "bbb"}, "models": {}}
    new = {"rows": {"bmul": {"20": {"exact": 1.0, "samples": 1024}}}, "sha256": {"bmul": "aaa"},
           "models": {"bmul": "improved Neural GPU (2017)"}}
    same = zoo.update_results(old, new)
    assert set(same["rows"]["bmul"]) == {"20", "2000"} and same["rows"]["bmul"]["20"]["exact"] == 1
    assert same["rows"]["badd"] == {"20": cell}
    reshipped = zoo.update_results(old, dict(new, sha256={"bmul": "ccc"}))
    assert set(reshipped["rows"]["bmul"]) == {"20"}
    assert reshipped["sha256"] == {"bmul": "ccc", "badd": "bbb"}


def test_training_log_of_a_fine_tuned_run_counts_on_from_the_first_phase(tmp_path):
    """Catches the chapters' curve showing only the fine-tune (its steps restart at 0)."""
    import json

    (tmp_path / "finetune").mkdir()
    (tmp_path / "log.jsonl").write_text("\n".join(json.dumps({"step": s, "seconds": 10.0 * s})
                                                  for s in (200, 400)) + "\n")
    (tmp_path / "finetune" / "log.jsonl").write_text(json.dumps({"step": 200, "seconds": 50.0}))
    tuned = zoo.Recipe("bmul", finetune=[dict(lr=0.001, steps=100)])
    recs = [json.loads(line) for line in zoo.training_log(tuned, tmp_path).splitlines()]
    assert [r["step"] for r in recs] == [200, 400, 600]
    assert recs[-1]["seconds"] == 4050.0 and recs[-1]["phase"] == "finetune"
    assert "phase" not in recs[0]
    plain = zoo.Recipe("bmul")
    assert len(zoo.training_log(plain, tmp_path).splitlines()) == 2


def test_describe_shipped_names_the_runs_seed_not_the_fine_tunes(tmp_path, monkeypatch):
    """Catches a fine-tuned model shown under its last phase's data seed (11) as if it were the
    seed of the run the zoo kept (0)."""
    import json

    from ngpu_lite.model import checkpoints

    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path)
    (tmp_path / "bmul.json").write_text(json.dumps({"preset": "dngpu", "seed": 11, "kept_seed": 0}))
    assert "seed 0 (last phase's data seed 11)," in zoo.describe_shipped("bmul")


def test_fine_tune_phases_are_a_list_each_capped_by_its_steps(monkeypatch):
    """Catches a list of phases losing its order, its folder names, or a phase without steps
    (which would train for as long as the machine allows, so a rebuild would differ)."""
    two = zoo.Recipe("bmul", finetune=[dict(lr=0.001, steps=300), dict(lr=5e-4, bins=(8, 41),
                                                                        steps=1100)])
    assert zoo.phases(two) == [("finetune", {"lr": 0.001}, 300),
                               ("finetune2", {"lr": 5e-4, "bins": (8, 41)}, 1100)]
    assert zoo.phases(zoo.Recipe("bmul")) == []
    with pytest.raises(ValueError, match="phase 2 .* no steps"):
        zoo.phases(zoo.Recipe("bmul", finetune=[dict(lr=0.001, steps=1), dict(lr=5e-4, minutes=5)]))
    monkeypatch.setitem(zoo.RECIPES, "bmul", two)
    assert ("then 300 steps more from that model with {'lr': 0.001}; then 1,100 steps more from "
            "that model with {'lr': 0.0005, 'bins': (8, 41)}") in zoo.describe_recipe("bmul")


def test_every_shipped_recipe_caps_every_phase_by_steps_and_matches_its_manifest():
    """Each recipe's first phase and fine-tune phases end where the shipped manifest says its run
    ended (so `make checkpoints` trains what was shipped). Catches a recipe left capped in minutes,
    or a step count that drifted from the shipped model's record."""
    import json

    from ngpu_lite.model import checkpoints

    for name, recipe in zoo.RECIPES.items():
        man = json.loads((checkpoints.SHIPPED_DIR / f"{name}.json").read_text())
        ends = [st["steps"] for st in man["stages"]] if man.get("stages") else [man["steps"]]
        assert [recipe.steps] + [n for _, _, n in zoo.phases(recipe)] == ends, name


def test_training_log_chains_every_fine_tune_phase(tmp_path):
    """Catches a second fine-tune phase missing from the curve, or its steps not counted on."""
    import json

    for name, steps in (("finetune", (100,)), ("finetune2", (100, 200))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "log.jsonl").write_text(
            "\n".join(json.dumps({"step": s, "seconds": float(s)}) for s in steps) + "\n")
    (tmp_path / "log.jsonl").write_text(json.dumps({"step": 400, "seconds": 400.0}) + "\n")
    two = zoo.Recipe("bmul", finetune=[dict(lr=0.001, steps=1), dict(lr=5e-4, steps=1)])
    recs = [json.loads(line) for line in zoo.training_log(two, tmp_path).splitlines()]
    assert [(r["step"], r.get("phase")) for r in recs] == [
        (400, None), (500, "finetune"), (600, "finetune2"), (700, "finetune2")]


def test_finetune_run_trains_each_phase_from_the_one_before_and_counts_all_steps(tmp_path):
    """Catches a phase starting from the first phase's model instead of the one before, or the
    shipped step count leaving phases out."""
    import unittest.mock
    from pathlib import Path

    from ngpu_lite.model import checkpoints

    recipe = zoo.Recipe("copy", preset="tiny", finetune=[dict(lr=0.001, steps=2),
                                                          dict(lr=0.0005, steps=4)])
    first = zoo.train("copy", "tiny", out=tmp_path, seed=0, steps=3, progress=False)

    loaded = []
    real_load = checkpoints.load

    def load(folder, task):
        loaded.append(Path(folder))
        return real_load(folder, task)

    with unittest.mock.patch.object(checkpoints, "load", load):
        res = zoo.finetune_run(recipe, tmp_path, 0, first, progress=False)
    assert res.steps == 3 + 2 + 4
    assert loaded == [tmp_path, tmp_path / "finetune"]
    assert checkpoints.load(tmp_path / "finetune", "copy")[1]["seed"] == 11
    assert checkpoints.load(tmp_path / "finetune2", "copy")[1]["seed"] == 22


def test_results_figure_gives_every_row_its_own_panel_named_by_model():
    """Catches rows at 100% drawn on one shared axis, hiding all but the last of them."""
    import matplotlib

    matplotlib.use("Agg")
    cell = {"exact": 1.0, "samples": 8}
    res = {"rows": {t: {"20": cell, "200": cell} for t in ("badd", "copy", "reverse")}
           | {"lstm-badd": {"20": cell}}, "models": {t: "improved Neural GPU (2017)"
                                                      for t in ("badd", "copy", "reverse")}}
    fig = zoo.plot(res)
    titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titled == ["badd: improved Neural GPU (2017)", "copy: improved Neural GPU (2017)",
                      "reverse: improved Neural GPU (2017)", "badd: LSTM + attention"]
    assert all(len(ax.lines[0].get_xdata()) == (1 if "LSTM" in ax.get_title() else 2)
               for ax in fig.axes if ax.get_title())


def test_build_of_a_paper_recipe_ships_it_under_its_own_name(tmp_path, monkeypatch):
    """A `-paper` recipe trains in `runs/zoo/TASK-paper-sSEED` and ships `TASK-paper.pt` for its
    task, leaving `TASK.pt` alone: catches the paper model overwriting the improved one."""
    from ngpu_lite.model import checkpoints

    monkeypatch.setitem(zoo.RECIPES, "copy-paper", zoo.Recipe(
        "copy", preset="tiny", model="paper", seeds=(0,), steps=5, until=(4, 4)))
    monkeypatch.setattr(zoo, "ROOT", tmp_path)
    monkeypatch.setattr(zoo, "FIGURES_DIR", tmp_path)
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "shipped")
    monkeypatch.setattr(zoo, "_score", lambda model, task, digits, samples: {
        "exact": 0.5, "per_symbol": 0.9, "samples": samples})
    man = zoo.build("copy-paper", runs_dir=tmp_path / "runs", progress=False)
    assert (tmp_path / "runs" / "copy-paper-s0" / "checkpoint.pt").exists()
    assert man["task"] == "copy" and man["file"] == "copy-paper.pt"
    assert sorted(p.name for p in (tmp_path / "shipped").glob("*.pt")) == ["copy-paper.pt"]
    assert checkpoints.pretrained("copy", "cpu", model="paper").config.w == 2
    assert "preset tiny" in zoo.describe_shipped("copy-paper")


def test_stages_list_every_folder_of_a_fine_tuned_run_with_its_checks(tmp_path):
    """Catches a shipped manifest that keeps only the last phase's record, so the first phase's
    checks (where the run stopped, and why) are lost."""
    import json

    recipe = zoo.Recipe("badd", finetune=[dict(lr=0.001, steps=5), dict(lr=0.0005, steps=5)])
    for name, seed, checks in (("", 0, [{"step": 1000, "passed": 1}]), ("finetune", 11, []),
                               ("finetune2", 22, [])):
        (tmp_path / name).mkdir(exist_ok=True)
        (tmp_path / name / "checkpoint.json").write_text(json.dumps(
            {"seed": seed, "steps": 100, "phases": [{"from_step": 0}], "checks": checks}))
    got = zoo.stages(recipe, tmp_path)
    assert [(s["folder"], s["seed"]) for s in got] == [(".", 0), ("finetune", 11), ("finetune2", 22)]
    assert got[0]["checks"] == [{"step": 1000, "passed": 1}]


def test_train_recipe_runs_the_recipes_fine_tune_phases_after_the_first(tmp_path, monkeypatch):
    """Catches `RETRAIN = True` in a chapter (which calls train_recipe) training only the first
    phase of a recipe whose shipped model was fine-tuned after it."""
    from types import SimpleNamespace

    monkeypatch.setitem(zoo.RECIPES, "copy", zoo.Recipe("copy", preset="tiny", seeds=(4,),
                                                        finetune=[dict(lr=0.001, steps=1)]))
    first = SimpleNamespace(stopped="steps")
    monkeypatch.setattr(zoo, "train", lambda task, preset, **kw: first)
    calls = []
    monkeypatch.setattr(zoo, "finetune_run", lambda r, folder, seed, first, progress: calls.append(
        (folder, seed, first)) or "tuned")
    assert zoo.train_recipe("copy", tmp_path / "run", progress=False) == "tuned"
    assert calls == [(tmp_path / "run", 4, first)]


def test_build_finds_another_seeds_record_in_its_committed_resume_copy(tmp_path, monkeypatch):
    """Catches a rebuild of seed 1 on a fresh clone dropping seed 0 (its run folder is committed
    under resume/, not under runs/zoo/) and shipping a worse seed 1 uncontested."""
    from types import SimpleNamespace

    monkeypatch.setitem(zoo.RECIPES, "copy", zoo.Recipe("copy", preset="tiny", seeds=(0,)))
    monkeypatch.setattr(zoo, "ROOT", tmp_path)
    (tmp_path / "resume" / "copy-s0").mkdir(parents=True)
    old = {"seed": 0, "steps": 10, "minutes": 1.0, "stopped": "minutes", "exact_20": 1.0,
           "exact_200": 0.9, "per_symbol_200": 0.99, "folder": "runs/zoo/copy-s0"}
    monkeypatch.setattr(zoo, "_shipped_runs", lambda task: [old])
    monkeypatch.setattr(zoo, "train_recipe", lambda *a, **k: SimpleNamespace(
        model=None, steps=20, seconds=60.0, stopped="steps"))
    monkeypatch.setattr(zoo, "_score", lambda model, task, digits, samples: {
        "exact": 0.5, "per_symbol": 0.9, "samples": samples})
    res = zoo.build("copy", runs_dir=tmp_path / "runs", seeds=(1,), ship=False, progress=False)
    assert [r["seed"] for r in res["runs"]] == [0, 1] and res["kept"] == 0
    assert res["runs"][0]["folder"] == "resume/copy-s0"
