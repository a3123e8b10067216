"""Kang et al. on the architecture they used: the experiments of notebook 05 § 1 and § 4 with the latent DiT.

Kang et al. 2024 trained a VAE and a diffusion transformer; the series' own experiments ran on the pixel U-Net.
These run the same code (``ood.ood_vs_id``, ``attributes.colour_vs_velocity``) on the latent recipe: the
shipped VAE (``"tiny-latent"``, frozen) and a spacetime DiT trained by flow matching per seed, for as many steps
as the U-Net's runs (``--steps 3561``), on 17-frame clips with 5 given (the VAE's 1 + 4k layout). So the two
architectures can be set side by side: do they fail alike out of distribution, and does colour win for both?

    python -m vidlab.experiments ood_vs_id_dit colour_vs_velocity_dit --train --steps 3561 --jobs 2
    python -m vidlab.experiments ood_vs_id_dit --steps 3561
"""

from __future__ import annotations

from vidlab.experiments import attributes, ood
from vidlab.experiments.core import each_seed, experiment

# Every config of these experiments: the latent transformer on the shipped VAE, 17 frames of which 5 given.
LATENT_RECIPE = {"family": "latent_dit", "vae": "tiny-latent", "num_frames": 17, "context_frames": 5}


@experiment("ood_vs_id_dit", models=each_seed(), summarise=ood.summarize, recipe=LATENT_RECIPE)
def ood_vs_id_dit(ctx) -> dict:
    """ood_vs_id with the latent DiT: velocity error inside the training ranges and outside them."""
    return ood.ood_vs_id(ctx)


@experiment("colour_vs_velocity_dit", models=each_seed(split=attributes.COUPLINGS["colour"].train_split),
            recipe=LATENT_RECIPE)
def colour_vs_velocity_dit(ctx) -> dict:
    """colour_vs_velocity with the latent DiT: trained on red-slow and blue-fast balls, shown the swapped pairs."""
    return attributes.colour_vs_velocity(ctx)
