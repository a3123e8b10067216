"""The experiments' machinery: intervals, resumable results, the zoo, and one experiment end to end (fast)."""

import json
import math

import numpy as np
import pytest

from vidlab import evaluate, probes, world
from vidlab.experiments import core, drift, mixing, ood, resolution, scenes, stats, targets, vae_physics, zoo
from vidlab.experiments.__main__ import main
from vidlab.train import TrainConfig


def test_wilson_interval_matches_the_textbook_values():
    r = stats.rate(5, 10)  # Wilson 95%: 0.2366 to 0.7634
    assert r["rate"] == 0.5 and math.isclose(r["low"], 0.2366, abs_tol=1e-3) and math.isclose(r["high"], 0.7634,
                                                                                                 abs_tol=1e-3)
    assert stats.rate(0, 256)["low"] == 0.0 and 0 < stats.rate(0, 256)["high"] < 0.02
    with pytest.raises(ValueError, match="k=3, n=2"):
        stats.rate(3, 2)


def test_median_interval_brackets_the_median_and_shrinks_with_more_data():
    rng = np.random.default_rng(0)
    small, large = (stats.median_ci(rng.normal(1.0, 0.5, n)) for n in (30, 3000))
    for ci in (small, large):
        assert ci["low"] <= ci["median"] <= ci["high"]
    assert large["high"] - large["low"] < small["high"] - small["low"]
    with_missed = stats.median_ci([0.1, 0.2, 0.3, np.inf, np.nan])  # a missed ball is inf; NaN is dropped
    assert with_missed["n"] == 4 and with_missed["median"] == 0.25


def test_over_seeds_gives_mean_sd_and_range():
    assert stats.over_seeds([1.0, 2.0, 3.0]) == {"mean": 2.0, "sd": 1.0, "min": 1.0, "max": 3.0, "n": 3}


def test_results_resume_and_the_record_sums_wall_time(tmp_path):
    results = core.Results(tmp_path / "x", "x", core.FAST)
    results.add({"seed": 0, "condition": "a", "value": 1.5, "per_clip": {"v": [1.0]}})
    assert results.done(seed=0, condition="a")["value"] == 1.5 and results.done(seed=1, condition="a") is None
    first = results.finish({"figure": 1.5})
    again = core.Results(tmp_path / "x", "x", core.FAST)  # a later session picks up the same folder
    assert again.done(seed=0, condition="a") is not None
    second = again.finish({"figure": 1.5})  # it only summarised: the record's sessions and time stay
    assert second["wall_seconds"] == first["wall_seconds"] and first["mode"]["name"] == "fast"
    assert len(second["sessions"]) == 1 and second["mode"]["seeds"] == [0]
    again.add({"seed": 1, "condition": "a", "value": 2.0})
    third = again.finish({"figure": 1.75})
    assert len(third["sessions"]) == 2 and third["wall_seconds"] >= first["wall_seconds"]
    assert (tmp_path / "x" / "rows.csv").read_text().splitlines()[0] == "seed,condition,value"  # lists stay in JSON
    assert json.loads((tmp_path / "x" / "summary.json").read_text()) == {"figure": 1.75}


def test_sessions_finishing_together_all_stay_in_the_record(tmp_path):
    import threading

    n = 6
    together = threading.Barrier(n)
    records, errors = [], []

    def session(seed):  # each as a process working on its own seed would: its own Results on the shared folder
        try:
            results = core.Results(tmp_path / "x", "x", core.FAST)
            results.add({"seed": seed, "value": float(seed)})
            together.wait()
            records.append(results.finish({"figure": seed}))
        except Exception as err:  # a torn record.json reads as a JSONDecodeError here
            errors.append(err)

    threads = [threading.Thread(target=session, args=(seed,)) for seed in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    record = json.loads((tmp_path / "x" / "record.json").read_text())
    assert len(record["sessions"]) == n and record["mode"]["seeds"] == list(range(n))
    assert max(len(r["sessions"]) for r in records) == n
    assert not list((tmp_path / "x").glob("*.tmp")) and not list((tmp_path / "x").glob(".*"))


def test_results_zoo_and_commit_belong_to_the_checkout_from_any_working_folder(tmp_path, monkeypatch):
    import subprocess

    from vidlab import env

    monkeypatch.chdir(tmp_path)  # as a notebook runs, in notebooks/, or a command run from elsewhere
    ctx = core.context("ood_vs_id", device="cpu")
    assert ctx.results.folder == env.CHECKOUT / "results" / "ood_vs_id" and env.in_clone()
    assert ctx.zoo == zoo.ZOO == env.CHECKOUT / "runs" / "zoo"
    assert core.FAST_RESULTS == env.CHECKOUT / "runs" / "experiments-fast"
    # what a rerun writes is what load() reads
    assert env.repository_file("results/ood_vs_id/summary.json") == ctx.results.folder / "summary.json"
    assert core.load("ood_vs_id") == json.loads((ctx.results.folder / "summary.json").read_text())
    assert not list(tmp_path.iterdir())  # nothing was written under the working folder
    if (env.CHECKOUT / ".git").exists():  # a copy without git (a lent GPU machine) has no commit to read
        head = subprocess.run(["git", "-C", str(env.CHECKOUT), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        assert core.git_commit().split("+")[0] == head


def test_zoo_names_differ_by_any_setting():
    cfg = TrainConfig()
    names = {zoo.model_name(cfg, 10), zoo.model_name(TrainConfig(seed=1), 10), zoo.model_name(cfg, 5),
             zoo.model_name(TrainConfig(split="coupled_train"), 10)}
    assert len(names) == 4 and all(n.startswith("projectile_") for n in names)


def test_velocity_error_is_zero_for_the_truth_and_not_for_a_still_ball():
    clips = evaluate.held_out({"scenarios": ("projectile",)}, 4)
    truth = evaluate.video_metrics([c.video for c in clips], clips, 4)
    still = evaluate.video_metrics([evaluate.copy_last_frame(c, 4) for c in clips], clips, 4)
    assert truth["velocity_error_px"] < 0.1 < still["velocity_error_px"]
    per_clip = evaluate.per_clip_metrics([c.video for c in clips], clips, 4)
    assert [r["seed"] for r in per_clip] == [0, 1, 2, 3] and all(r["velocity_error_px"] < 0.2 for r in per_clip)


def test_held_out_clips_follow_the_conditions():
    fast = evaluate.held_out({"scenarios": ("projectile",)}, 3, **ood.CONDITIONS["faster"])
    speeds = [np.hypot(*c.params["init"][0]["vel"]) for c in fast]
    lo, hi = world.OOD_SPEED[1]
    assert all(lo <= s <= hi * 1.2 for s in speeds)  # the vertical part adds up to a half of the horizontal


@pytest.fixture(scope="module")
def fast_workdir(tmp_path_factory):
    """One folder for the module's fast runs, so their zoo of tiny models is shared between them (and kept out
    of the checkout's runs/, where fast results go otherwise)."""
    folder = tmp_path_factory.mktemp("experiments")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(core, "FAST_RESULTS", folder)
        yield folder


def test_ood_experiment_runs_end_to_end_and_resumes(fast_workdir):
    summary = core.run("ood_vs_id", fast=True, device="cpu")
    rows = core.Results(core.FAST_RESULTS / "ood_vs_id", "ood_vs_id", core.FAST).rows()
    assert len([r for r in rows if r["seed"] != "truth"]) == len(core.FAST.seeds) * len(ood.CONDITIONS)
    assert set(summary) == set(ood.CONDITIONS)  # (a 3-step model finds no ball: its figures are inf or NaN)
    for condition in ood.CONDITIONS:  # the probes on the true clips: every ball found, to a fraction of a pixel
        floor = summary[condition]["probes_on_truth"]
        assert floor["correct_count"] == 1.0 and floor["center_error_px"] < 0.1
    trained = sorted(p.name for p in (core.FAST_RESULTS / "zoo").iterdir())
    assert len([name for name in trained if "projectile_id_pool32_" in name]) == len(core.FAST.seeds)
    core.run("ood_vs_id", fast=True, device="cpu")  # resumes: nothing new is trained or measured
    assert len(core.Results(core.FAST_RESULTS / "ood_vs_id", "ood_vs_id", core.FAST).rows()) == len(rows)
    assert sorted(p.name for p in (core.FAST_RESULTS / "zoo").iterdir()) == trained


def test_the_command_names_an_unknown_experiment(capsys):
    with pytest.raises(SystemExit, match="unknown experiment 'nope'.*ood_vs_id"):
        main(["nope", "--fast"])
    main(["--list"])
    assert "ood_vs_id" in capsys.readouterr().out


def test_judge_says_the_truth_follows_velocity_and_a_stopped_ball_its_attribute():
    from vidlab.experiments import attributes

    slow_in_training = {"colour": "red", "size": "small"}
    for name, coupling in attributes.COUPLINGS.items():
        clips = evaluate.held_out({"scenarios": ("projectile",), "split": coupling.train_split}, 8,
                                  **world.SPLITS[coupling.swap_split])
        swapped_fast = next(c for c in clips if coupling.class_of(c) == slow_in_training[name])
        truth = attributes.judge(swapped_fast.video, swapped_fast, 4, coupling)
        assert truth["follows"] == "velocity" and truth["true_speed"] > 2.5
        assert abs(truth["generated_speed"] - truth["true_speed"]) < 0.3
        stopped = attributes.judge(evaluate.copy_last_frame(swapped_fast, 4), swapped_fast, 4, coupling)
        assert stopped["generated_speed"] < 0.2 and stopped["follows"] == "attribute"
        assert stopped["attribute_speed"] == 1.0


@pytest.mark.parametrize("name", ["scaling", "colour_vs_velocity", "size_vs_velocity", "context_frames",
                                  "memorisation", "failure_rates", "samplers_and_steps", "training_time",
                                  "object_permanence", "momentum", "guidance", "drift", "frame_mixing",
                                  "ood_vs_training_length", "prediction_targets", "smaller_at_64px",
                                  "vae_physics", "ood_vs_id_dit", "colour_vs_velocity_dit", "open_future"])
def test_the_other_experiments_run_fast(name, fast_workdir):
    summary = core.run(name, fast=True, device="cpu")
    assert summary and (core.FAST_RESULTS / name / "record.json").exists()
    expected = {"scaling": [str(p) for p in ood.pool_sizes(core.FAST)], "colour_vs_velocity": ["swapped", "as trained"],
                "colour_vs_velocity_dit": ["swapped", "as trained"], "ood_vs_id_dit": list(ood.CONDITIONS),
                "drift": [*(f"{v} | {m}" for v, m in drift.runs(core.FAST)), "comparisons"],
                "frame_mixing": list(mixing.VARIANTS),
                "size_vs_velocity": ["swapped", "as trained"], "context_frames": ["1", "2", "3", "4"],
                "memorisation": [str(p) for p in (ood.pool_sizes(core.FAST)[0], ood.pool_sizes(core.FAST)[-1])],
                "ood_vs_training_length": ["2", "3", "longer minus shorter"],
                "prediction_targets": list(targets.VARIANTS),
                "smaller_at_64px": [resolution.label(s, c) for s in resolution.SIZES for c in resolution.CONDITIONS],
                "vae_physics": [name for c in vae_physics.CONDITIONS for name in
                                (*(f"{g}x in time, {c}" for g in vae_physics.TIME_GROUPS), f"2x minus 4x, {c}")]}
    if name in expected:
        assert list(summary) == expected[name]
    if name == "drift":  # every run measured, so --train has nothing left to train; every paired comparison
        assert core.MODELS[name](core.context(name, fast=True, device="cpu")) == []
        assert list(summary["comparisons"]) == list(drift.COMPARISONS)
        assert all(set(c) == {"seeds", *drift.PER_CLIP} for c in summary["comparisons"].values())
    if name == "frame_mixing":  # example continuations for notebook 01, beside the truth
        with np.load(core.FAST_RESULTS / name / "gallery.npz") as gallery:
            assert set(gallery) == {*mixing.VARIANTS, "truth"} and gallery["truth"].dtype == np.uint8
    if name in ("guidance", "samplers_and_steps", "training_time"):  # rates of any failure and of each kind
        from vidlab.experiments import failures

        assert all(set(entry["kinds"]) == set(failures.KINDS) for entry in summary.values())
    if name == "failure_rates":  # its gallery: a generated clip and its truth for each kind the probes found
        with np.load(core.FAST_RESULTS / name / "gallery.npz") as gallery:
            for kind in gallery["kinds"]:
                assert gallery[f"generated_{kind}"].shape == gallery[f"truth_{kind}"].shape
    rows = core.Results(core.FAST_RESULTS / name, name, core.FAST).rows()
    assert {r["seed"] for r in rows} - {"truth"} == set(core.FAST.seeds)
    if name == "ood_vs_training_length":  # each seed's run measured at its snapshot (2 steps) and its end (3)
        assert {(r["steps"], r["condition"]) for r in rows if r["seed"] == 0} == {
            (n, c) for n in ood.LENGTHS["fast"] for c in ood.CONDITIONS}
        assert set(summary["longer minus shorter"]) == set(ood.CONDITIONS)
    if name == "prediction_targets":  # the schedules' terminal signal, printed by notebook 01
        assert summary["epsilon, cosine"]["epsilon_error_factor"] == pytest.approx(20_291, rel=1e-3)
        assert summary["v, cosine zero terminal SNR"]["sqrt_alpha_bar_999"] == 0.0
        assert summary["epsilon, scaled linear"]["sqrt_alpha_bar_999"] == pytest.approx(0.0683, abs=1e-3)
        assert set(summary["v, cosine"]["minus_x0"]) == set(targets.ERRORS) and "minus_x0" not in summary["x0, cosine"]
    if name == "smaller_at_64px":  # the probes see every true ball at both sizes, 64 px's smaller ones better
        floor = {(v["size"], v["condition"]): v["probes_on_truth"] for v in summary.values()}
        assert all(f["correct_count"] == 1.0 for f in floor.values())
        assert {r["size"] for r in rows} == set(resolution.SIZES)
    if name == "vae_physics":  # each VAE on each condition, every clip read for its failures and its bounces
        assert {(r["time_group"], r["condition"]) for r in rows if r["seed"] == 0} == {
            (g, c) for g in vae_physics.TIME_GROUPS for c in vae_physics.CONDITIONS}
        assert all(len(r["bounces"]) == len(r["failures"]) == core.FAST.clips for r in rows)
    if name.endswith("_dit"):  # the same experiment on the latent recipe: a transformer on the shipped VAE
        used = json.loads((core.FAST_RESULTS / name / "record.json").read_text())["models"]
        configs = [json.loads((core.FAST_RESULTS / "zoo" / m / "config.json").read_text()) for m in used]
        assert all((c["family"], c["vae"], c["num_frames"]) == ("latent_dit", "tiny-latent", 17) for c in configs)
    if name == "open_future":  # the instrument reads the truth right; each model kind, each scenario's odds
        from vidlab.experiments import open_future

        floor = summary["instrument"]
        assert floor["truth"]["misread"] == floor["truth"]["switched"] == 0
        assert floor["truth through the VAE"]["clips"] == floor["truth"]["clips"]
        for variant in open_future.VARIANTS:
            for setting in open_future.SETTINGS:
                entry = summary[f"{variant} | {setting}"]
                assert set(entry) == set(open_future.SCENARIOS)
                assert all(0 <= e["tv"]["mean"] <= 1 and len(e["per_seed"]) == len(core.FAST.seeds)
                           and 0 <= e["switch_rate"]["rate"] <= 1 for e in entry.values())
        assert len(summary["ghost rate, paired differences"]) == len(open_future.VARIANTS) + len(
            open_future.SETTINGS) - 2
    if name == "guidance":  # the probes on the true clips of each scene: their false alarms
        assert {r["scene"] for r in rows if r["seed"] == "truth"} == set(scenes.SCENES)
    # the models it declares (for --train) are the models it used, each with where it trained
    record = json.loads((core.FAST_RESULTS / name / "record.json").read_text())
    fresh = core.context(name, fast=True, device="cpu", root=fast_workdir / "nothing measured yet")
    declared = core.MODELS[name](fresh)
    assert set(record["models"]) == {zoo.model_name(cfg, minutes) for cfg, minutes in declared}
    assert all(m["step"] == 3 and m["machine"]["device"] == "cpu" for m in record["models"].values())


def test_models_train_beforehand_in_parallel_and_one_seed_runs_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(core, "FAST_RESULTS", tmp_path)  # a zoo of its own: the shared one may hold these models
    main(["colour_vs_velocity", "--fast", "--device", "cpu", "--train", "--jobs", "2"])
    trained = sorted(p.name for p in (core.FAST_RESULTS / "zoo").iterdir())
    assert len(trained) == len(core.FAST.seeds) and "coupled_train" in trained[0]
    main(["colour_vs_velocity", "--fast", "--device", "cpu", "--train"])
    assert "every model was already trained" in capsys.readouterr().out
    main(["colour_vs_velocity", "--fast", "--device", "cpu", "--seeds", "1"])
    rows = core.Results(core.FAST_RESULTS / "colour_vs_velocity", "colour_vs_velocity", core.FAST).rows()
    assert {r["seed"] for r in rows} == {1} and sorted(p.name for p in (core.FAST_RESULTS / "zoo").iterdir()) == trained
    record = json.loads((core.FAST_RESULTS / "colour_vs_velocity" / "record.json").read_text())
    assert [s["seeds"] for s in record["sessions"]] == [[1]]
    with pytest.raises(SystemExit, match=r"seeds=\[7\]: this mode's seeds are \[0, 1, 2\]"):
        main(["colour_vs_velocity", "--fast", "--seeds", "7"])


def test_trained_only_measures_nothing_and_trains_nothing_without_its_models(tmp_path, monkeypatch):
    monkeypatch.setattr(core, "FAST_RESULTS", tmp_path)  # an empty zoo
    with pytest.raises(SystemExit, match=r"is not trained yet, and trained_only was asked"):
        main(["drift", "--fast", "--device", "cpu", "--trained-only"])
    assert not (tmp_path / "zoo").exists() or not any((tmp_path / "zoo").iterdir())
    assert core.Results(tmp_path / "drift", "drift", core.FAST).rows() == []
    assert json.loads((tmp_path / "drift" / "summary.json").read_text()) == {}  # drift summarises what it has


def test_fixed_steps_train_the_recipe_for_that_many_steps(tmp_path, monkeypatch):
    monkeypatch.setattr(core, "FAST_RESULTS", tmp_path)
    cfg = TrainConfig(steps=1, checkpoint_every=10 ** 6, clip_pool=8, batch_size=2)
    zoo.trained(cfg, 0.5, core.FAST_RESULTS / "zoo", "cpu", steps=4)
    folder = core.FAST_RESULTS / "zoo" / zoo.model_name(cfg, 0.5)
    saved = json.loads((folder / "config.json").read_text())
    assert saved["steps"] == 4 and saved["max_minutes"] is None
    assert json.loads((folder / "state.json").read_text())["step"] == 4


def test_ood_summary_gives_each_condition_its_ratio_to_in_distribution():
    rows = [{"seed": s, "condition": c, "velocity_error_px": e * (1 + s), "center_error_px": 1.0,
             "correct_count": 1.0, "per_clip": {"velocity_error_px": [e, e]}}
            for s in (0, 1) for c, e in zip(ood.CONDITIONS, (0.1, 0.2, 0.3, 0.1, 0.4), strict=True)]
    summary = ood.summarize(rows)
    assert summary["in distribution"]["ratio_to_id"]["mean"] == pytest.approx(1.0)
    assert summary["faster"]["ratio_to_id"]["mean"] == pytest.approx(3.0)
    assert summary["larger"]["velocity_error_px"]["mean"] == pytest.approx(0.6)


def test_memorisation_measures_the_truth_as_closest_to_itself():
    from vidlab.experiments import memory

    cfg = TrainConfig(clip_pool=64, batch_size=4)
    train_set = memory.training_set(cfg)
    clips = evaluate.held_out({"scenarios": ("projectile",)}, 4)
    rows = memory.compare([c.video for c in clips], clips, train_set, 4)
    assert all(r["to_truth"] < 0.3 < r["to_nearest_by_pixels"] for r in rows)  # the truth follows itself
    assert all(r["nearest_by_pixels_to_truth"] > 0 for r in rows)
    again = memory.compare([c.video for c in clips], clips, memory.training_set(cfg), 4)
    assert again == rows  # the training set is simulated again exactly


def test_failures_are_found_in_broken_clips_and_not_in_the_truth():
    from vidlab.experiments import failures

    clips = evaluate.held_out({"scenarios": ("projectile",)}, 6)
    truth = failures.classify([c.video for c in clips], clips, 4)
    assert all(r["failures"] == [] for r in truth) and all(r["center_error_px"] < 0.3 for r in truth)
    assert all(r["psnr"] == np.inf and r["ssim"] == 1.0 for r in truth)
    vanished = [world.inject(c, "vanish", frame=8, seed=0).video for c in clips]
    broken = failures.classify(vanished, clips, 4)
    assert sum("vanish" in r["failures"] for r in broken) >= 4  # the probes' recall is high, not perfect
    summary = failures.summarize([{"condition": "x", "per_clip": broken}])
    assert summary["x"]["model"]["vanish"]["k"] == sum("vanish" in r["failures"] for r in broken)
    assert summary["x"]["truth"]["vanish"]["k"] == 0


def test_make_experiments_runs_every_registered_experiment():
    import re
    from pathlib import Path

    from vidlab.experiments import EXPERIMENTS

    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    listed = re.search(r"^EXPERIMENTS := (.*?)(?<!\\)\n", makefile, re.S | re.M).group(1)
    assert set(listed.replace("\\\n", " ").split()) == set(EXPERIMENTS)


def test_permanence_and_momentum_measures_on_the_truth_and_on_a_vanished_ball():

    occluded = [c for c in evaluate.held_out({"scenarios": ("occlusion",)}, 8)]
    measured = [r for c in occluded if (r := scenes.reemergence(c.video, c, 4)) is not None]
    assert measured and all(r["reappeared"] and r["error_px"] < 0.5 and r["hidden_frames"] >= 1 for r in measured)
    gone = next(c for c in occluded if c.seed == measured[0]["seed"])  # a clip whose ball hides and comes back
    r = scenes.reemergence(evaluate.copy_last_frame(gone, 4), gone, 4)  # the ball stays where it was at frame 3
    assert r is not None and (not r["reappeared"] or r["error_px"] > 2)
    collisions = evaluate.held_out({"scenarios": ("collision",)}, 6)
    rows = [scenes.momentum(c.video, c) for c in collisions]
    met = [r for r in rows if r["true_collision"]]
    assert met and all(r["model"] == r["truth"] for r in met) and not any(r["interpenetration"] for r in met)
    assert np.nanmedian([r["truth"]["momentum_change"] for r in met]) < 0.25


def test_load_reads_committed_results_from_a_clone(tmp_path, monkeypatch):
    from vidlab import env
    from vidlab.experiments import load

    folder = tmp_path / "results" / "x"
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text('{"a": 1}')
    (folder / "rows.jsonl").write_text('{"seed": 0}\n{"seed": 1}\n')
    monkeypatch.setattr(env, "CHECKOUT", tmp_path)
    assert load("x") == {"a": 1} and [r["seed"] for r in load("x", "rows")] == [0, 1]
    with pytest.raises(ValueError, match="what='table'.*gallery"):
        load("x", "table")


def test_plots_draw_intervals_and_seeds_and_leave_out_a_lost_ball():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vidlab.experiments import plots

    fig, (left, right) = plt.subplots(1, 2)
    entries = [stats.rate(5, 10), stats.median_ci([1.0, 2.0, 3.0]), {"median": np.inf, "low": np.inf, "high": np.inf}]
    plots.intervals(left, ["a", "b", "lost"], entries, ylabel="x")
    drawn = left.lines[0].get_xydata()
    assert drawn.shape == (2, 2) and drawn[0, 1] == 0.5 and drawn[1, 1] == 2.0
    plots.seeds(right, ["a", "b"], [[1.0, 2.0, 3.0], [np.inf, 4.0]])
    assert [round(p.get_height(), 6) for p in right.patches] == [2.0, 4.0]
    plt.close(fig)
    fig, ax = plt.subplots()
    per_clip = [{"class": "red", "true_speed": 3.5, "generated_speed": 1.5},
                {"class": "blue", "true_speed": 1.5, "generated_speed": 3.4},
                {"class": "blue", "true_speed": 1.2, "generated_speed": float("nan")}]  # lost ball: left out
    plots.speeds(ax, per_clip, {"red": ((1.0, 2.0),), "blue": ((3.0, 4.0),)})
    dots = [line.get_xydata().tolist() for line in ax.lines[:2]]
    assert dots == [[[3.5, 1.5]], [[1.5, 3.4]]] and len(ax.patches) == 2  # a band per class
    plt.close(fig)


def test_metrics_with_clips_reads_each_clip_once_into_both_views():
    clips = evaluate.held_out({"scenarios": ("projectile",)}, 3)
    videos = [evaluate.copy_last_frame(c, 4) for c in clips]
    both = evaluate.metrics_with_clips(videos, clips, 4)
    assert {k: v for k, v in both.items() if k != "per_clip"} == evaluate.video_metrics(videos, clips, 4)
    rows = evaluate.per_clip_metrics(videos, clips, 4)
    assert both["per_clip"]["center_error_px"] == [round(r["center_error_px"], 5) for r in rows]


def test_model_names_cited_by_the_committed_records_stay_the_same():
    """A config field added later (context_noise) must not rename the models trained before it."""
    import dataclasses

    from vidlab.experiments import zoo
    from vidlab.train import TrainConfig

    cfg = TrainConfig(clip_pool=16384, batch_size=16, snapshot_minutes=(1, 3), seed=0)
    assert zoo.model_name(cfg, 10.0) == "projectile_id_pool16384_seed0_10min_b4f84475"  # results/*/record.json
    assert zoo.model_name(dataclasses.replace(cfg, context_noise=0.2), 10.0) != zoo.model_name(cfg, 10.0)


def test_the_fall_curve_follows_the_truth_and_the_event_rates_count_injected_failures():
    clips = [world.simulate("projectile", seed, size=32, num_frames=16) for seed in range(3)]
    truth = mixing.fall_curve([probes.physics_report(c.video, c.fps) for c in clips], clips, 4)
    expected = np.mean([c.centers[:, 0, 1] - c.centers[3, 0, 1] for c in clips], axis=0)
    assert np.allclose(truth, expected, atol=0.2) and truth[3] == pytest.approx(0, abs=0.2)
    broken = [world.inject(c, "teleport", frame=9).video for c in clips]
    rates = mixing.event_rates([probes.physics_report(v, clips[0].fps) for v in broken])
    assert rates["teleports_per_clip"] >= 1 and rates["vanishings_per_clip"] == 0 and rates["flicker"] > 0.99


def test_models_named_by_steps_carry_them_and_refuse_another_count(tmp_path):
    cfg = TrainConfig(steps=3561, clip_pool=16384, batch_size=16, seed=0)
    by_steps = zoo.model_name(cfg, None)
    assert "_seed0_3561steps_" in by_steps and by_steps != zoo.model_name(cfg, 10.0)
    assert zoo.model_name(TrainConfig(steps=14244, clip_pool=16384, batch_size=16, seed=0), None) != by_steps
    # the new fields at their defaults keep the old names; set, they make new ones
    old = TrainConfig(clip_pool=16384, batch_size=16, snapshot_minutes=(1, 3), seed=0)
    for changed in ({"noise_schedule": "scaled_linear"}, {"snapshot_steps": (100,)}):
        assert zoo.model_name(TrainConfig(**{**old.__dict__, **changed}), 10.0) != zoo.model_name(old, 10.0)
    with pytest.raises(ValueError, match="steps=1000: the model .*3561steps.* pass --steps 3561"):
        zoo.trained(cfg, None, tmp_path, "cpu", steps=1000)


def test_the_targets_summary_compares_each_variant_with_x0_on_the_same_clips():
    ctx = core.context("prediction_targets", fast=True, device="cpu")
    rows = [{"seed": s, "variant": v, "correct_count": 1.0,
             "per_clip": {"center_error_px": [e + s, e + s + 1], "velocity_error_px": [e, e],
                          "correct_count": [1.0, 0.5]}}
            for s in (0, 1) for v, e in zip(targets.VARIANTS, (0.1, 5.0, 0.3, 0.2, 1.0), strict=True)]
    summary = targets.summarize(rows, ctx)
    assert summary["epsilon, cosine"]["minus_x0"]["center_error_px"]["difference"] == pytest.approx(4.9)
    assert summary["epsilon, cosine"]["minus_x0"]["center_error_px"]["per_seed"] == pytest.approx([4.9, 4.9])
    assert summary["x0, cosine"]["count_right_in_every_frame"]["rate"] == 0.5
