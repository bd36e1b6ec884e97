"""Generator and discriminator modules (pure Flax linen; no data or training code here)."""

from gan_jax.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_jax.models.mlp import MLPDiscriminator, MLPGenerator
from gan_jax.models.registry import create_models

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator",
           "create_models"]
