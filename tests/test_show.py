"""vidlab.show: looping GIFs with captions and overlays, static strips, mp4 and gif files."""

import io

import numpy as np
import pytest
from PIL import Image

from vidlab import probes, show, world


def frames_of(gif):
    im = Image.open(io.BytesIO(gif.data))
    return im.n_frames, im.size, im.info.get("loop")


def test_video_is_a_looping_gif_of_the_clip_shown_as_png_output():
    clip = world.simulate("projectile", 1)
    gif = show.video(clip)
    assert gif.data[:6] == b"GIF89a" and gif._repr_png_()[:6] == b"GIF89a"  # notebooks show it as an image
    n, size, loop = frames_of(gif)
    assert n == len(clip.video) and loop == 0 and size[1] > 160  # clip plus caption
    im = Image.open(io.BytesIO(gif.data))
    for t in (0, n - 1):  # each GIF frame is the clip's frame, scaled (up to the GIF palette and the border)
        im.seek(t)
        shown = np.asarray(im.convert("RGB"))[1:159, 1:159].astype(int)
        truth = np.asarray(Image.fromarray(clip.video[t]).resize((160, 160), Image.NEAREST))[1:159, 1:159]
        assert np.abs(shown - truth).mean() < 8


def test_side_by_side_with_overlays_of_truth_and_reports():
    clip = world.simulate("collision", 2)
    broken = world.inject(clip, "vanish", frame=5)
    report = probes.physics_report(broken.video, broken.fps)
    gif = show.video([clip, broken, clip.video[:8]], captions=["a", "b", "c"],
                     overlays=[clip, report, None], height=96)
    n, (width, _), _ = frames_of(gif)
    assert n == len(clip.video) and width >= 3 * 96
    frames = show.compose([clip, clip], ["truth drawn", "nothing drawn"], [clip, None], height=96)
    scale, t = 96 / clip.video.shape[1], 3  # frame 3: both balls in view
    for j, color in zip(range(clip.num_objects), show.TRACK_COLORS, strict=False):
        x, y = (clip.centers[t, j] + 0.5) * scale
        near = np.asarray(frames[t])[int(y) - 6:int(y) + 7]
        drawn = (near[:, int(x) - 6:int(x) + 7] == color).all(-1).sum()
        plain = (near[:, 96 + 6 + int(x) - 6:96 + 6 + int(x) + 7] == color).all(-1).sum()
        assert drawn >= 10 and plain == 0  # a cross of the ball's colour on its true centre, none without overlay


def test_accepts_grayscale_and_float_video():
    video = world.simulate("uniform", 0).video
    gray = video.mean(-1).astype(np.uint8)
    assert frames_of(show.video([gray, video / 255.0], captions=["gray", "float"]))[0] == len(video)


def test_overlay_overlay_shape_is_checked():
    clip = world.simulate("uniform", 0)
    with pytest.raises(ValueError, match="expected"):
        show.video(clip, overlays=[np.zeros((3, 2))])
    with pytest.raises(ValueError, match="one caption"):
        show.video([clip, clip], captions=["only one"])


def test_filmstrip_and_files(tmp_path):
    clip = world.simulate("occlusion", 1)
    strip = show.filmstrip(clip, n=6, overlay=clip)
    assert strip.size[0] > 6 * 90
    show.save_video(clip, tmp_path / "c.gif")
    show.save_video(clip, tmp_path / "c.mp4")
    assert (tmp_path / "c.gif").read_bytes()[:3] == b"GIF" and (tmp_path / "c.mp4").stat().st_size > 1000
    with pytest.raises(ValueError, match=".mp4 or .gif"):
        show.save_video(clip, tmp_path / "c.avi")


def test_step_grid_and_slider_and_live_loss():
    clips = [np.full((4, 16, 16, 3), v, np.uint8) for v in (0, 100, 200)]
    grid = show.step_grid(clips, ["a", "b", "c"], rows=3, n=4)
    assert grid.height >= 3 * 16 and grid.width > 150
    slider = show.step_slider(clips, ["a", "b", "c"], n=4)
    assert slider.children[0].max == 2
    live = show.LiveLoss(every=2)
    for step in range(1, 6):
        live(step, 1.0 / step)
    live.close()
    assert list(live.line.get_xdata()) == [1, 2, 3, 4, 5]


def test_mp4_without_imageio_ffmpeg_says_what_to_install(tmp_path, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "imageio_ffmpeg"
                        else real_find_spec(name, *a))
    with pytest.raises(RuntimeError, match="needs imageio-ffmpeg: pip install imageio-ffmpeg, or save a .gif"):
        show.save_video(world.simulate("uniform", 0), tmp_path / "c.mp4")


def test_gifs_play_in_real_time_and_event_names_stay_readable():
    clip = world.simulate("projectile", 1)  # 10 fps
    gif = Image.open(io.BytesIO(show.video(clip).data))
    assert gif.info["duration"] == 100  # ms per frame: the clip's own rate, not a fixed 8 fps
    assert Image.open(io.BytesIO(show.video(clip, fps=5).data)).info["duration"] == 200
    broken = world.inject(clip, "teleport", frame=10)
    report = probes.physics_report(broken.video, broken.fps)
    assert [e.frame for e in report.events if e.kind == "teleport"]
    frames = show.compose([broken], [""], [report], event_frames=round(show.EVENT_SECONDS * clip.fps))
    red = [int((np.asarray(f)[:16, :60] == (255, 0, 0)).all(-1).sum()) for f in frames]
    shown = [t for t, n in enumerate(red) if n > 0]
    assert len(shown) >= 6, f"the event's name showed in frames {shown}: expected at least 0.6 s at 10 fps"


def test_widgets_read_as_a_note_where_they_cannot_render():
    clip = world.simulate("uniform", 0, num_frames=8)
    box = show.step_slider([clip.video, clip.video], ["step 0", "step 1"])
    assert repr(box).startswith("[an interactive slider") and "VBox" not in repr(box)
    assert box._repr_mimebundle_()["text/plain"] == repr(box)


def test_committed_table_keeps_the_header_and_the_rows_asked_for():
    table = show.committed_table("benchmarks/results/train_vs_peers_10min.txt", ["v-prediction", "shipped"])
    lines = table.data.splitlines()
    assert "params" in lines[0] and set(lines[1]) <= set("|-: ")
    assert len(lines) == 4 and "v-prediction" in lines[3] and "shipped" in lines[2]
    with pytest.raises(ValueError, match="no Markdown table"):
        show.committed_table("requirements.txt", ["x"])
