"""gan_jax: Generative Adversarial Networks in JAX/Flax.

The model, loss and step modules import only jax, flax, optax and numpy, so research scripts
(and accelerator machines without TensorFlow) can use them directly:

    from gan_jax import losses, train_step
    from gan_jax.models import mlp
"""

__version__ = "0.1.0"
