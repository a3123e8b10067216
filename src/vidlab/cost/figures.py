"""Published figures the cost model is built on, each with its source and date.

A figure is :class:`Cited`: a value (or a low-high range), its unit, where it comes from, and how sure it is
("primary": read in the project's own repository, docs or paper; "secondary": a press or aggregator report
that cites it; "measured": run for this project, with the command). REFERENCES.md at the top of the
repository holds the wider context of each, with links.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Cited:
    """A number with its unit and its source."""

    value: float | tuple  # a value, or a (low, high) range
    unit: str
    source: str
    kind: str = "primary"  # "primary", "secondary", "measured" or "estimate"

    @property
    def low(self) -> float:
        return self.value[0] if isinstance(self.value, tuple) else self.value

    @property
    def high(self) -> float:
        return self.value[1] if isinstance(self.value, tuple) else self.value

    @property
    def mid(self) -> float:
        return (self.low + self.high) / 2

    def __str__(self) -> str:
        v = f"{self.low:g}-{self.high:g}" if isinstance(self.value, tuple) else f"{self.value:g}"
        return f"{v} {self.unit} ({self.source}; {self.kind})"


SURVEYS = "2026 cloud GPU price surveys, REFERENCES.md#prices"
GPU_HOUR = {  # on-demand rental, one GPU
    "RTX 4090": Cited((0.34, 0.60), "$/GPU-hour", SURVEYS, "secondary"),
    "A100": Cited((1.39, 2.45), "$/GPU-hour", SURVEYS, "secondary"),
    "H100": Cited((2.49, 4.76), "$/GPU-hour", SURVEYS, "secondary"),
}

API_PER_SECOND = {  # list prices per second of generated video
    "sora-2 (720p), Oct 2025": Cited(0.10, "$/s", "OpenAI API list price", "secondary"),
    "sora-2-pro (720p to 1024p), Oct 2025": Cited((0.30, 0.50), "$/s", "OpenAI API list price", "secondary"),
    "Veo 3, after Sep 2025": Cited(0.40, "$/s", "Google list price", "secondary"),
    "Veo 3 Fast, after Sep 2025": Cited(0.15, "$/s", "Google list price", "secondary"),
    "Veo 3.1 (Gemini API, by tier), May 2026": Cited((0.05, 0.60), "$/s", "Gemini API pricing", "secondary"),
    "Runway Gen-4 Turbo": Cited(0.05, "$/s", "Runway list price", "secondary"),
    "Kling 2.5 Turbo Pro": Cited(0.07, "$/s", "list price, approximate", "secondary"),
    "Wan 2.1 image-to-video, hosted (480p to 720p)": Cited((0.09, 0.25), "$/s", "a hosted API", "secondary"),
}

# Seconds per clip as the models' own READMEs publish them (their settings, their hardware).
PUBLISHED_CLIP_SECONDS = {
    "Wan2.1-1.3B, 480p, 81 frames, 1 RTX 4090": Cited(261, "s", "Wan2.1 README efficiency table"),
    "Wan2.1-14B, 720p, 1 H100": Cited(1838, "s", "Wan2.1 README efficiency table"),
    "Wan2.1-14B, 720p, 8 H100": Cited(288, "s", "Wan2.1 README efficiency table"),
    "Wan2.2-A14B, 480p, 1 H100": Cited(326.9, "s", "Wan2.2 README"),
    "Wan2.2-A14B, 720p, 1 H100": Cited(1041.5, "s", "Wan2.2 README"),
    "Wan2.2-A14B, 720p, 8 H100": Cited(155.1, "s", "Wan2.2 README"),
    "CogVideoX-2B, 720x480, 49 frames, 1 H100": Cited(45, "s", "CogVideo README (about)"),
    "HunyuanVideo, 1280x720, 129 frames, 1 GPU": Cited(1904, "s", "HunyuanVideo README"),
    "HunyuanVideo, 1280x720, 129 frames, 8 GPUs": Cited(338, "s", "HunyuanVideo README"),
    "LTX-Video, 5 s at 24 fps, 768x512, 1 H100": Cited(2, "s", "LTX-Video paper, arXiv 2501.00103 (about)"),
}

H100_STEP_FIT = {  # step_s = a N + b N^2 (N tokens), one guided step, bf16, random weights
    "wan2.1-t2v-1.3b": {"a": 1.713e-5, "b": 6.501e-10},
    "wan2.1-t2v-14b": {"a": 1.136e-4, "b": 2.859e-9},
}
H100_STEP_POINTS = {  # (tokens, seconds per guided step): the measurements the fit was made on
    "wan2.1-t2v-1.3b": [(5400, 0.118), (12600, 0.327), (14040, 0.373), (32760, 1.256), (75600, 4.996),
                        (89760, 6.768), (111600, 10.044), (171360, 22.006), (252960, 45.937)],
    "wan2.1-t2v-14b": [(21600, 3.718), (39600, 8.835), (48960, 12.484), (75600, 24.883), (89760, 33.265),
                       (111600, 48.222)],
}
H100_STEP_FIT_SOURCE = ("measured for this project on one H100 80GB, November 2026 (REFERENCES.md#h100-wan-curve); "
                        "residuals within 0.35% from 32,760 tokens (1.3B) and -1.9% to "
                        "+0.6% (14B)")

GPU_SPECS = {  # dense tensor-core bf16 and memory bandwidth, from NVIDIA's published figures
    "H100 SXM": {"bf16_tflops": Cited(989.4, "TFLOP/s", "glennklockwood.com/garden/processors/h100, citing NVIDIA",
                                      "secondary"),
                 "fp8_tflops": Cited(1978.9, "TFLOP/s", "same (dense)", "secondary"),
                 "bandwidth_tbs": Cited(3.35, "TB/s", "same", "secondary"),
                 "power_w": Cited(700, "W", "same (maximum)", "secondary")},
    "B200 (HGX, 1000 W)": {"bf16_tflops": Cited(2250, "TFLOP/s", "glennklockwood.com/garden/processors/B200, citing "
                                                "NVIDIA", "secondary"),
                           "bandwidth_tbs": Cited(8.0, "TB/s", "same", "secondary"),
                           "power_w": Cited(1000, "W", "same (maximum)", "secondary")},
}

BLACKWELL_MEASURED = {  # video diffusion, seconds per clip or per step
    "Cosmos-Predict2 2B Video2World, s per clip": {"H100 PCIe": 79.9, "H200 SXM": 50.2, "B200": 30.7, "GB200": 25.6},
    "Cosmos-Predict2 14B Video2World, s per clip": {"H100 PCIe": 286.5, "H200 SXM": 176.2, "B200": 92.6,
                                                    "GB200": 85.3},
    "Wan2.1-T2V-1.3B 480p, ms per step (FlashDreams preview)": {"H100": 1040, "GB200": 441, "GB300": 382},
}
BLACKWELL_SOURCES = {
    "Cosmos-Predict2 2B Video2World, s per clip": "docs.nvidia.com, Cosmos Predict2 model matrix (primary)",
    "Cosmos-Predict2 14B Video2World, s per clip": "docs.nvidia.com, Cosmos Predict2 model matrix (primary)",
    "Wan2.1-T2V-1.3B 480p, ms per step (FlashDreams preview)": "NVIDIA FlashDreams preview page (secondary)",
}
THIRTY_X = ("NVIDIA, GTC 2024: a GB200 NVL72 rack's real-time inference throughput on a 1.8-trillion-parameter "
            "mixture-of-experts language model against the same number of H100s, FP4 against FP8 and a 72-GPU NVLink "
            "domain against 8-GPU nodes; NVIDIA's training claim for the same system is 4x. Not a video figure.")

SORA_TIMELINE = [  # (date, what happened, source); REFERENCES.md#sora-report, #sora-launch and #sora-since
    ("2024-02-15", "Sora shown with a technical report ('Video generation models as world simulators'): clips of "
                   "up to a minute; no public access",
     "OpenAI's Sora page and post, as the press quoted them (secondary), REFERENCES.md#sora-report"),
    ("2024-12-09", "Sora (Sora Turbo) opened to ChatGPT Plus and Pro subscribers: clips of up to 20 s, up to 1080p "
                   "on Pro", "press reports of OpenAI's launch post (secondary), REFERENCES.md#sora-launch"),
    ("2025-09-30", "Sora 2 launched; its API takes clips of 4, 8 or 12 s", "secondary, REFERENCES.md#sora-since"),
    ("2025-10", "API list prices: sora-2 $0.10/s (720p), sora-2-pro $0.30-0.50/s", "secondary, REFERENCES.md#prices"),
    ("2026-03-24", "OpenAI announced the end of Sora: the app closes on 2026-04-26 and the API on 2026-09-24, "
                   "citing compute cost",
     "press reports citing OpenAI's help page (secondary), REFERENCES.md#sora-since"),
    ("2026-04-26", "the Sora app and web site closed", "the same press reports (secondary)"),
    ("2026-09-24", "the Sora 2 models and the Videos API shut down, with no replacement API",
     "OpenAI's sora-2 model page (primary), REFERENCES.md#sora-since"),
]

# What a realistic alternative to a generated establishing shot costs: a licensed stock clip.
STOCK_CLIP = {
    "Shutterstock, one HD clip (single purchase)": Cited(79, "$", "older list price reported by hdvideopro.com and "
                                                         "lizenzfreievideos.com, REFERENCES.md#stock-footage",
                                                         "secondary"),
    "Shutterstock, HD clips in a pack of 25": Cited(1699 / 25, "$", "the same list (25 for $1,699)", "secondary"),
    "Getty Images, royalty-free video": Cited((50, 500), "$", "a blog's summary of Getty's prices (imgpanda.com), "
                                              "REFERENCES.md#stock-footage", "secondary"),
}

# The levers that set what a clip really costs in 2025-26, against the 50 steps x 2 passes this notebook prices.
COST_LEVERS = [  # (lever, what it changes, source in REFERENCES.md)
    ("step and guidance distillation", "4-8 steps of one pass instead of 50 steps of two (AnyFlow: 1-16 steps; "
     "LTX-Video 0.9.8 distilled: guidance- and timestep-distilled)", "#distillation"),
    ("generate small, then upscale", "denoise at 480-720p, then a latent upsampler doubles the sides (LTX-Video's "
     "LTXLatentUpsamplePipeline)", "#distillation"),
    ("FP8 / FP4 arithmetic", "H100: 1,979 dense FP8 TFLOP/s against 989 in bf16; B200: FP4 twice its FP8",
     "#gpu-specs"),
    ("caching", "reuse attention or block outputs between neighbouring steps (diffusers: Pyramid Attention "
     "Broadcast, FasterCache, FirstBlockCache, MagCache, TaylorSeer)", "#diffusers"),
]

ENERGY_NOTE = ("Delavande, Pierrard and Luccioni (arXiv 2509.19222): on one H100, energy per clip spans from a few Wh "
               "to over 100 Wh across open models, and grows quadratically with resolution and frame count and "
               "linearly with steps")
H100_POWER_SEEN = Cited(700, "W", "the project's H100 held its 700 W power limit during the step timings "
                        "(REFERENCES.md#h100-wan-curve)", "measured")

FILMS = [  # press reports
    ("Critterz", "an animated feature made with OpenAI's tools, reported at under $30M against the usual "
                 "$100-200M, and 9 months against about 3 years; it missed its planned Cannes 2026 debut after "
                 "Sora's shutdown", "press reports (secondary)"),
    ("El Eternauta (Netflix, April 2025)", "generative video for a building collapse, the first such final footage "
                                          "in a Netflix original", "press reports (secondary)"),
]
