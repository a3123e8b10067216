"""The old name of :mod:`vidlab.denoiser`, kept so that pipelines saved before the rename still load.

diffusers records each component's module in ``model_index.json``; those written before the rename say
``vidlab.model``. diffusers then looks up the class, and its base class ``ModelMixin``, in this module, and
loads only modules already imported (``vidlab.pipeline`` imports this one). New code imports from
``vidlab.denoiser``.
"""

from diffusers.models.modeling_utils import ModelMixin  # noqa: F401

from vidlab.denoiser import TinyTextEncoder, VideoDenoiser, denoiser_inputs  # noqa: F401
