"""vidlab.pixels: checking videos, pixels to model space and back, degrading clips."""

import numpy as np
import pytest
import torch

from vidlab import pixels, world


def test_model_space_round_trips_uint8_and_keeps_the_layouts():
    video = world.simulate("projectile", 1, size=32).video
    x = pixels.to_model_space(video)
    assert x.shape == (16, 3, 32, 32) and x.dtype == torch.float32 and x.min() >= -1 and x.max() <= 1
    np.testing.assert_array_equal(pixels.from_model_space(x), video)
    batch = pixels.to_model_space(np.stack([video, video]))
    assert batch.shape == (2, 16, 3, 32, 32)
    unit = pixels.to_unit_pixels(batch)
    assert unit.shape == (2, 16, 32, 32, 3)
    np.testing.assert_allclose(unit[0].numpy(), video / 255, atol=1e-6)


def test_uint8_and_unit_float_input_give_the_same_model_space():
    video = world.simulate("uniform", 2, size=32).video
    torch.testing.assert_close(pixels.to_model_space(video), pixels.to_model_space(video / 255.0))
    assert pixels.to_model_space(np.array([[[[0, 255, 128]]]], np.uint8)).flatten().tolist()[:2] == [-1.0, 1.0]


@pytest.mark.parametrize("bad, message", [
    (np.zeros((4, 32, 32), np.uint8), r"expected RGB frames \[..., T, H, W, 3\]"),
    (np.zeros((4, 32, 32, 4), np.uint8), "shape"),
])
def test_to_model_space_names_a_wrong_shape(bad, message):
    with pytest.raises(ValueError, match=message):
        pixels.to_model_space(bad)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((0, 32, 32, 3), np.uint8), "empty video"),
    (np.zeros((1, 32, 32, 3), np.uint8), "at least 2 frames"),
    (np.zeros((4, 4, 4, 3), np.uint8), "too small"),
    (np.full((4, 32, 32, 3), 2.0), r"divide 0-255 data by 255"),
    (np.full((4, 32, 32, 3), np.nan), "NaN"),
    (np.zeros((4, 32, 32, 3), np.int64), "dtype int64"),
])
def test_as_float_video_names_what_is_wrong(bad, message):
    with pytest.raises(ValueError, match=message):
        pixels.as_float_video(bad)


def test_degrade_keeps_shape_and_changes_pixels():
    clip = world.simulate("uniform", 0)
    out = world.degrade(clip.video, blur=1.0, noise=0.02, jpeg_quality=80)  # world.degrade is pixels.degrade
    assert out.shape == clip.video.shape and out.dtype == np.uint8 and not np.array_equal(out, clip.video)
    assert pixels.degrade(clip.video, grayscale=True).shape == clip.video.shape[:3]


def test_temporal_squeeze_blurs_or_skips_groups_after_the_first_frame():
    from vidlab import world
    from vidlab.pixels import temporal_squeeze

    clip = world.simulate("projectile", 0, num_frames=17)
    blur, skip = temporal_squeeze(clip.video, 4, "blur"), temporal_squeeze(clip.video, 4, "skip")
    assert np.array_equal(blur[0], clip.video[0]) and np.array_equal(skip[1], clip.video[4])
    assert np.array_equal(blur[1], blur[4]) and not np.array_equal(blur[1], clip.video[1])
    with pytest.raises(ValueError, match="16 frames with factor=4"):
        temporal_squeeze(clip.video[:16], 4)
