"""Shared settings and helpers: hypothesis runs a fixed set of examples so CI is repeatable; the tiny training
config and the interrupt that the training tests share."""

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

# The smallest model that still has every part: a training step takes milliseconds on a CPU.
TINY = dict(batch_size=2, channels=16, depth=1, checkpoint_every=2, num_frames=8, context_frames=2)


@pytest.fixture(scope="session")
def tiny() -> dict:
    """``TrainConfig`` keyword arguments of a model small enough to train in a test (a checkpoint every 2 steps)."""
    return dict(TINY)


def _stop_at_three(step, loss):
    if step == 3:
        raise KeyboardInterrupt


@pytest.fixture(scope="session")
def stop_at_three():
    """An ``on_step`` for ``train``: interrupts after step 3, as Ctrl+C would; with :func:`tiny`'s checkpoints the
    last one is step 2."""
    return _stop_at_three
