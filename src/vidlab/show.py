"""Small looping videos inline in notebooks, visible in JupyterLab, Colab and on GitHub.

:func:`video` lays several clips side by side with captions, optionally overlaying tracked centres
(from a :class:`vidlab.probes.PhysicsReport`, or an array of centres) and the events a report found. It
returns an animated GIF. The GIF is handed to Jupyter as ``image/png``: browsers look at the bytes and
animate it, and this is the one image type that GitHub's notebook viewer, JupyterLab and Colab all show.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vidlab.pixels import as_float_video

TRACK_COLORS = [(0, 200, 255), (255, 200, 0), (0, 220, 120), (255, 0, 200), (150, 150, 255)]


class GIF:
    """An animated GIF that notebooks display inline; ``.data`` holds the bytes, ``.save(path)`` writes them."""

    def __init__(self, data: bytes, size: tuple):
        self.data, self.size = data, size

    def _repr_png_(self):
        return self.data

    def save(self, path) -> None:
        with open(path, "wb") as f:
            f.write(self.data)

    def __repr__(self) -> str:
        return f"GIF({self.size[0]}x{self.size[1]} px, {len(self.data) / 1024:.0f} KB)"


def _as_frames(clip) -> np.ndarray:
    """uint8 [T, H, W, 3] from a vidlab Clip, a uint8 or [0, 1] float video, RGB or grayscale."""
    video = getattr(clip, "video", clip)
    v = as_float_video(video) if np.asarray(video).shape[0] >= 2 else np.asarray(video, np.float32) / 255
    if v.shape[-1] == 1:
        v = np.repeat(v, 3, axis=-1)
    return np.clip(np.rint(v * 255), 0, 255).astype(np.uint8)


def _centers(overlay, t_len):
    """[T, N, 2] centres, and the events by frame, from a PhysicsReport, a Clip or an array."""
    if overlay is None:
        return None, {}
    if hasattr(overlay, "tracks"):  # PhysicsReport
        cs = np.stack([tr.centers for tr in overlay.tracks], axis=1) if overlay.tracks else np.zeros((t_len, 0, 2))
        events = {}
        for e in overlay.events:
            events.setdefault(e.frame, []).append(e.kind)
        return cs, events
    cs = np.asarray(getattr(overlay, "centers", overlay), float)
    if cs.ndim != 3 or cs.shape[0] != t_len or cs.shape[2] != 2:
        raise ValueError(f"overlay centres have shape {cs.shape}: expected [T={t_len}, N, 2] (x, y) px")
    return cs, {}


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def compose(clips: Sequence, captions: Sequence[str] | None = None, overlays: Sequence | None = None,
            height: int = 160, caption_px: int = 12, event_frames: int = 1) -> list:
    """Lay clips side by side as PIL frames, each scaled to ``height`` px with its caption below.

    An event's name stays on screen for ``event_frames`` frames from the frame it happened in.
    """
    clips = list(clips) if isinstance(clips, list | tuple) else [clips]
    captions = list(captions) if captions is not None else [getattr(c, "caption", "") for c in clips]
    overlays = list(overlays) if overlays is not None else [None] * len(clips)
    if not (len(captions) == len(overlays) == len(clips)):
        raise ValueError(f"got {len(clips)} clips, {len(captions)} captions and {len(overlays)} overlays: "
                         "give one caption and one overlay (or None) per clip")
    videos = [_as_frames(c) for c in clips]
    t_len = max(len(v) for v in videos)
    font = _font(caption_px)
    cap_h = (caption_px + 4) * max(1, max(len(_wrap(c, height)) for c in captions)) if any(captions) else 0
    widths = [int(round(v.shape[2] * height / v.shape[1])) for v in videos]
    gap = 6
    canvas_w = sum(widths) + gap * (len(videos) - 1)
    frames = []
    for t in range(t_len):
        canvas = Image.new("RGB", (canvas_w, height + cap_h), (255, 255, 255))
        draw = ImageDraw.Draw(canvas)
        x0 = 0
        for v, w, cap, ov in zip(videos, widths, captions, overlays, strict=True):
            frame = v[min(t, len(v) - 1)]  # shorter clips hold their last frame
            scale = height / v.shape[1]
            canvas.paste(Image.fromarray(frame).resize((w, height), Image.NEAREST), (x0, 0))
            draw.rectangle([x0, 0, x0 + w - 1, height - 1], outline=(170, 170, 170))  # the frame's edge
            cs, events = _centers(ov, len(v))
            if cs is not None:
                for n, (x, y) in enumerate(cs[min(t, len(v) - 1)]):
                    if np.isfinite(x):
                        px, py, col = x0 + (x + 0.5) * scale, (y + 0.5) * scale, TRACK_COLORS[n % len(TRACK_COLORS)]
                        draw.line([(px - 5, py), (px + 5, py)], fill=col, width=2)
                        draw.line([(px, py - 5), (px, py + 5)], fill=col, width=2)
                shown = [kind for f in range(min(t, len(v) - 1) - event_frames + 1, min(t, len(v) - 1) + 1)
                         for kind in events.get(f, [])]
                for k, kind in enumerate(shown):
                    draw.text((x0 + 3, 3 + k * (caption_px + 2)), kind, fill=(255, 0, 0), font=font)
            for k, line in enumerate(_wrap(cap, w)):
                draw.text((x0 + 2, height + 2 + k * (caption_px + 4)), line, fill=(0, 0, 0), font=font)
            x0 += w + gap
        frames.append(canvas)
    return frames


def _wrap(text: str, width_px: int) -> list:
    per_line = max(8, width_px // 7)
    words, lines, cur = (text or "").split(), [], ""
    for word in words:
        if len(cur) + len(word) + 1 > per_line and cur:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}".strip()
    return lines + ([cur] if cur else [])


EVENT_SECONDS = 0.6  # how long an event's name stays on screen: long enough to read


def video(clips, captions=None, overlays=None, fps: float | None = None, height: int = 160) -> GIF:
    """Show one clip or several side by side as a looping GIF.

    Args:
        clips: a vidlab ``Clip``, a video (uint8 or [0, 1] float, ``[T, H, W, 3]`` or ``[T, H, W]``), or a list.
        captions: one string per clip; default: each Clip's caption.
        overlays: one per clip: a ``PhysicsReport`` (tracked centres and event names), a Clip (its true
            centres), an array ``[T, N, 2]`` of (x, y) px, or None.
        fps: playback rate; default: the first clip's own ``fps`` (real time), else 10.
        height: display height in px of each clip (nearest-neighbour upscaling keeps pixels sharp).
    """
    if fps is None:
        first = clips[0] if isinstance(clips, list | tuple) else clips
        fps = float(getattr(first, "fps", 10.0))
    if fps <= 0:
        raise ValueError(f"fps={fps}: expected a positive playback rate")
    frames = compose(clips, captions, overlays, height, event_frames=max(1, round(EVENT_SECONDS * fps)))
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=int(1000 / fps),
                   loop=0, optimize=True)
    return GIF(buf.getvalue(), frames[0].size)


def filmstrip(clip, n: int = 8, overlay=None, height: int = 96) -> Image.Image:
    """A static strip of ``n`` evenly spaced frames (a PIL image that notebooks show as PNG)."""
    frames = _as_frames(clip)
    idx = np.linspace(0, len(frames) - 1, min(n, len(frames))).round().astype(int)
    cs, _ = _centers(overlay, len(frames))
    picked = [frames[i] for i in idx]
    ov = [cs[i:i + 1] for i in idx] if cs is not None else [None] * len(idx)
    return compose([p[None] for p in picked], [f"t={i}" for i in idx], ov, height)[0]


def save_video(clip, path, fps: float | None = None) -> None:
    """Write a clip to ``.mp4`` (imageio with imageio-ffmpeg) or ``.gif`` (Pillow); fps: default the clip's, else 10."""
    fps = float(getattr(clip, "fps", 10.0)) if fps is None else fps
    frames = _as_frames(clip)
    path = str(path)
    if path.endswith(".gif"):
        video(frames, captions=[""], fps=fps, height=frames.shape[1]).save(path)
    elif path.endswith(".mp4"):
        import importlib.util

        import imageio.v2 as imageio

        if importlib.util.find_spec("imageio_ffmpeg") is None:  # else imageio tries another writer and fails
            raise RuntimeError(f"writing {path!r} needs imageio-ffmpeg: pip install imageio-ffmpeg, or save a .gif")

        # H.264 wants even sizes; repeat the last row or column if needed.
        pad = ((0, 0), (0, frames.shape[1] % 2), (0, frames.shape[2] % 2), (0, 0))
        imageio.mimwrite(path, np.pad(frames, pad, mode="edge"), fps=fps, codec="libx264", macro_block_size=1)
    else:
        raise ValueError(f"path {path!r}: expected a .mp4 or .gif file name")


class LiveLoss:
    """A loss curve that redraws in place while a model trains: ``train(..., on_step=LiveLoss())``.

    Redraws every ``every`` steps (drawing costs time too), plus once more on :meth:`close`.
    """

    def __init__(self, every: int = 10, title: str = "training loss"):
        import matplotlib.pyplot as plt
        from IPython.display import display

        self.every, self.steps, self.losses = every, [], []
        self.fig, self.ax = plt.subplots(figsize=(6, 3))
        self.ax.set(title=title, xlabel="step", ylabel="loss (log scale)", yscale="log")
        (self.line,) = self.ax.plot([], [], lw=0.8)
        plt.close(self.fig)  # shown through the display handle only
        self.handle = display(self.fig, display_id=True)  # None outside a notebook: then nothing is drawn

    def __call__(self, step: int, loss: float) -> None:
        self.steps.append(step)
        self.losses.append(loss)
        if step % self.every == 0:
            self.redraw()

    def redraw(self) -> None:
        self.line.set_data(self.steps, self.losses)
        self.ax.relim()
        self.ax.autoscale_view()
        if self.handle is not None:
            self.handle.update(self.fig)

    def close(self) -> None:
        self.redraw()


def step_slider(videos, labels: Sequence[str], n: int = 8, height: int = 96):
    """Scrub through a sequence of clips (e.g. one per denoising step) with a slider.

    Returns an ipywidgets slider bound to a filmstrip of the chosen clip. Widgets need a live kernel: on
    GitHub, or in a notebook opened without running it, the output reads as a one-line note instead, so show
    :func:`step_grid` (the static version) beside it.
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        print("ipywidgets is not installed: showing the static grid instead")
        return step_grid(videos, labels, n=n)
    from IPython.display import display

    out = widgets.Output()

    def draw(change=None):
        i = slider.value
        with out:
            out.clear_output(wait=True)
            print(labels[i])
            display(filmstrip(videos[i], n=n, height=height))

    slider = widgets.IntSlider(value=len(videos) - 1, min=0, max=len(videos) - 1, description="step")
    slider.observe(draw, names="value")
    draw()
    return live_box([slider, out], "[an interactive slider: run this cell in JupyterLab or Colab to use it]")


def live_box(children, note: str):
    """Widgets in a VBox whose text form is ``note``: that is what shows where widgets cannot render
    (GitHub, a notebook opened without running it), instead of ``VBox(children=...)``."""
    import ipywidgets as widgets

    class LiveOnly(widgets.VBox):
        def __repr__(self) -> str:
            return note

    return LiveOnly(children)


def step_grid(videos, labels: Sequence[str], rows: int = 6, n: int = 8, height: int = 64) -> Image.Image:
    """A static grid: ``rows`` clips picked evenly from ``videos``, each as a filmstrip with its label."""
    picks = np.unique(np.linspace(0, len(videos) - 1, rows).round().astype(int))
    strips = [filmstrip(videos[i], n=n, height=height) for i in picks]
    label_w = 150
    grid = Image.new("RGB", (label_w + max(s.width for s in strips), sum(s.height + 4 for s in strips)), "white")
    draw, font, y = ImageDraw.Draw(grid), _font(12), 0
    for i, strip in zip(picks, strips, strict=True):
        draw.text((4, y + strip.height // 2 - 6), labels[i], fill="black", font=font)
        grid.paste(strip, (label_w, y))
        y += strip.height + 4
    return grid


def table(header: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Show a Markdown table in a notebook: it renders in JupyterLab, Colab and on GitHub (a static output)."""
    from IPython.display import Markdown, display

    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    display(Markdown("\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows])))


def committed_table(path: str, rows_with: Sequence[str]):
    """Rows of a Markdown table in a committed results file (e.g. ``benchmarks/results/...txt``), as Markdown.

    Keeps the table's header and the rows that contain any of ``rows_with``. The file is read from the clone,
    or downloaded once from the repository elsewhere (``env.repository_file``).
    """
    from IPython.display import Markdown

    from vidlab import env

    lines = [r for r in env.repository_file(path).read_text().splitlines() if r.startswith("|")]
    if not lines:
        raise ValueError(f"{path}: no Markdown table in it")
    kept = lines[:2] + [r for r in lines[2:] if any(key in r for key in rows_with)]
    return Markdown("\n".join(kept))
