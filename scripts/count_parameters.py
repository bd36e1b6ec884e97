"""Parameter counts of the networks a config builds (docs/models.md's table).

    PYTHONPATH=. python scripts/count_parameters.py configs/dcgan_rps.py configs/wgan_food101.py

Shapes only (`jax.eval_shape`): nothing is initialised, so 15M-parameter networks cost nothing.
The image shape is `config.data.image_size` (square) with 3 channels for the RGB datasets, else
28x28x1; 2-D points for toy2d. D's input is `config.pack` samples wide (PacGAN). "total"
includes BatchNorm's moving statistics (and spectral norm's vectors).
"""

import argparse
import importlib.util

import jax
import jax.numpy as jnp

from gan_jax.models import registry
from gan_jax.train_state import count_parameters

GRAYSCALE = ("mnist", "fashion_mnist")


def image_shape(config):
  if config.data.name == "toy2d":
    return (2,)
  size = config.data.get("image_size") or 28
  return (size, size, 1 if config.data.name in GRAYSCALE else 3)


def counts(config):
  """{network: (total, trainable)} for the generator and discriminator of `config`."""
  shape = image_shape(config)
  generator, discriminator = registry.create_models(config.model, shape)
  inputs = {"generator": (generator, jnp.zeros((1, config.model.latent_dim))),
            "discriminator": (discriminator, jnp.zeros(
                (1, *shape[:-1], config.get("pack", 1) * shape[-1])))}
  result = {}
  for name, (module, x) in inputs.items():
    variables = jax.eval_shape(lambda m=module, x=x: m.init(jax.random.key(0), x, train=False))
    result[name] = (count_parameters(variables), count_parameters(variables["params"]))
  return result


def load_config(path):
  spec = importlib.util.spec_from_file_location("config_module", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("configs", nargs="+")
  args = parser.parse_args()
  print("| config | image | G total | G trainable | D total | D trainable |")
  print("|---|---|---:|---:|---:|---:|")
  for path in args.configs:
    config = load_config(path)
    c = counts(config)
    shape = "x".join(map(str, image_shape(config))) + (
        f", pack {config.pack}" if config.get("pack", 1) > 1 else "")
    print(f"| `{path}` | {shape} | {c['generator'][0]:,} | {c['generator'][1]:,} | "
          f"{c['discriminator'][0]:,} | {c['discriminator'][1]:,} |")


if __name__ == "__main__":
  main()
