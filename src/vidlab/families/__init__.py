"""What the shared training loop (``vidlab.train``) trains, one family of models per module.

``vidlab.train.train`` is one loop for every family: it draws the clips, steps the optimiser, keeps the EMA
weights, checkpoints, resumes and saves. A family says only what is particular to it, through four members:
``nets()`` (the networks to train, and the text encoder or None), ``loss(net, text_encoder, video, captions,
generator)``, ``pipeline(net, text_encoder, training_config)`` (what is saved) and ``load(folder)``.
``TrainConfig.family`` names it:

- ``"unet"`` (:mod:`.unet`): the pixel U-Net with DDPM of notebooks 01-05;
- ``"vae"`` and ``"latent_dit"`` (:mod:`.latent`): the latent recipe's causal video VAE, and the spacetime
  transformer trained by flow matching on a trained VAE's latents (notebook 03b).
"""

from vidlab.families.latent import LatentDiTFamily, VAEFamily
from vidlab.families.unet import PixelDiffusion

FAMILIES = {"unet": PixelDiffusion, "vae": VAEFamily, "latent_dit": LatentDiTFamily}
