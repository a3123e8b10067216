"""The modern recipe at tiny scale: a transformer over spacetime latent patches trained with flow matching.

``dit``: the diffusion transformer (patchify, AdaLN-Zero blocks, Wan's 3-D rotary positions, full attention).
``flow``: flow matching (rectified flow) on diffusers' scheduler and SD3 training utilities.
"""
