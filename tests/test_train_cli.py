"""``python -m vidlab.train``: every TrainConfig field is an option, parsed to the field's own type."""

import dataclasses
import typing

import pytest

from vidlab import train, train_cli
from vidlab.train import TrainConfig, parse_args

# One value per field, none of them the default, written as a user types it: (command-line words, value).
EVERY_FIELD = {
    "scenarios": (["projectile", "uniform"], ("projectile", "uniform")), "split": (["ood_speed"], "ood_speed"),
    "size": (["48"], 48), "num_frames": (["12"], 12), "context_frames": (["3"], 3), "fps": (["7.5"], 7.5),
    "window": (["random"], "random"), "simulate_frames": (["64"], 64), "context_noise": (["0.2"], 0.2),
    "family": (["latent_dit"], "latent_dit"), "vae_channels": (["16"], 16), "latent_channels": (["4"], 4),
    "vae_time_group": (["2"], 2), "kl_weight": (["1e-5"], 1e-5), "vae": (["tiny-latent"], "tiny-latent"),
    "dit_width": (["64"], 64), "dit_depth": (["2"], 2), "dit_heads": (["2"], 2), "patch": (["1", "4", "4"], (1, 4, 4)),
    "flow_shift": (["5"], 5.0), "timestep_density": (["uniform"], "uniform"), "loss_weighting": (["cosmap"], "cosmap"),
    "batch_size": (["4"], 4), "steps": (["3561"], 3561), "max_minutes": (["2.5"], 2.5), "lr": (["3e-4"], 3e-4),
    "lr_scaling": (["linear"], "linear"), "lr_schedule": (["constant"], "constant"), "warmup_steps": (["7"], 7),
    "channels": (["16"], 16), "mults": (["1", "2"], (1, 2)), "depth": (["2"], 2), "temporal": (None, False),
    "frame_index": (None, True), "given_frames": (["4"], 4), "ema_decay": (["0.9"], 0.9),
    "high_noise_bias": (["1"], 1.0), "prediction_type": (["epsilon"], "epsilon"),
    "noise_schedule": (["scaled_linear"], "scaled_linear"), "snr_gamma": (["5"], 5.0),
    "text": (None, True), "cond_dropout": (["0.25"], 0.25), "clip_pool": (["64"], 64),
    "checkpoint_every": (["50"], 50), "snapshot_minutes": (["1", "3"], (1.0, 3.0)),
    "snapshot_steps": (["100", "400"], (100, 400)), "seed": (["2"], 2),
}


def _words(name: str, words, value) -> list:
    flag = name.replace("_", "-")
    if words is None:  # a switch: --text, or --no-temporal for one that is on by default
        return [f"--{flag}" if value else f"--no-{flag}"]
    return [f"--{flag}", *words]


def test_the_table_covers_every_field_with_a_value_other_than_its_default():
    assert set(EVERY_FIELD) == {f.name for f in dataclasses.fields(TrainConfig)}
    for field in dataclasses.fields(TrainConfig):
        assert EVERY_FIELD[field.name][1] != field.default, field.name


@pytest.mark.parametrize("name", list(EVERY_FIELD))
def test_every_field_parses_to_its_own_type(name):
    words, value = EVERY_FIELD[name]
    cfg, run = parse_args(["--output", "x", *_words(name, words, value)])
    got = getattr(cfg, name)
    assert got == value and type(got) is type(value), f"--{name}: {got!r} ({type(got).__name__})"
    assert run == {"output": "x", "device": None, "fit_minutes": None}
    others = {f.name for f in dataclasses.fields(TrainConfig)} - {name}
    assert all(getattr(cfg, o) == getattr(TrainConfig(), o) for o in others)  # nothing else moved


def test_all_fields_at_once_and_the_defaults_when_none_is_given():
    argv = ["--output", "x"] + [w for name, (words, value) in EVERY_FIELD.items() for w in _words(name, words, value)]
    cfg, _ = parse_args(argv)
    assert dataclasses.asdict(cfg) == {name: value for name, (_, value) in EVERY_FIELD.items()}
    assert parse_args(["--output", "x"])[0] == TrainConfig()


def test_context_noise_is_a_number_and_optional_fields_take_none():
    cfg, _ = parse_args(["--output", "x", "--context-noise", "0.2", "--snr-gamma", "none", "--snapshot-minutes"])
    assert cfg.context_noise == 0.2 and cfg.snr_gamma is None and cfg.snapshot_minutes == ()
    with pytest.raises(SystemExit):  # argparse refuses a word where a number goes, naming the option
        parse_args(["--output", "x", "--context-noise", "lots"])


def test_a_field_of_a_type_the_command_line_cannot_take_is_named(monkeypatch):
    @dataclasses.dataclass
    class WithDict:
        table: dict = dataclasses.field(default_factory=dict)

    monkeypatch.setattr(typing, "get_type_hints", lambda cls: {"table": dict})
    with pytest.raises(TypeError, match="WithDict.table: <class 'dict'> has no command-line form"):
        train_cli.config_arguments(train_cli.argparse.ArgumentParser(), WithDict)


def test_a_bad_window_stops_the_command_with_the_fix(tmp_path):
    with pytest.raises(SystemExit, match="window='random' with simulate_frames=None: set simulate_frames above"):
        train.main(["--output", str(tmp_path / "run"), "--window", "random", "--steps", "1"])
