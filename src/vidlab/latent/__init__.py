"""The modern recipe at tiny scale: a transformer over spacetime latent patches trained with flow matching.

``vae``: a tiny causal video VAE (the first frame alone, then 4 frames per latent frame; 4x4 pixels per latent).
``dit``: the diffusion transformer (patchify, AdaLN-Zero blocks, Wan's 3-D rotary positions, full attention).
``flow``: flow matching (rectified flow) on diffusers' scheduler and SD3 training utilities.
"""
