"""Speed of one transposed-convolution layer: XLA's form against the two sub-pixel forms.

    PYTHONPATH=. python benchmarks/upsampling.py            # the DCGAN-28 and DCGAN-64 layers
    PYTHONPATH=. python benchmarks/upsampling.py --batch_size=128 --repeats=10

For each layer of the 28x28 DCGAN (configs/dcgan_fashion_mnist.py) and of DCGAN-64
(configs/dcgan64.py), batch --batch_size: milliseconds for the forward pass and for forward +
backward (gradients of the input and the kernel), median of --repeats jitted calls after one
warm-up call, for
  conv_transpose  `lax.conv_transpose` (what `nn.ConvTranspose` runs),
  stacked         all phases in one stride-1 convolution + depth-to-space,
  per_phase       one stride-1 convolution per phase, interleaved,
(gan_jax/models/subpixel.py; `model.upsampling="subpixel"` picks stacked below 8 output channels,
per_phase otherwise). One JSON line per layer and form. Imports only jax and gan_jax.models.
"""

import argparse
import json
import os
import statistics
import sys
import time

if __package__ in (None, ""):  # Run as a script: make `gan_jax` importable.
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # pylint: disable=g-import-not-at-top
import jax.numpy as jnp
from jax import lax

from gan_jax.models import subpixel

# (model, input side, in channels, out channels): every stride-2, 4x4 "SAME" up-sampling layer.
LAYERS = [("dcgan28", 7, 64, 32), ("dcgan28", 14, 32, 1),
          ("dcgan64", 4, 1024, 512), ("dcgan64", 8, 512, 256), ("dcgan64", 16, 256, 128),
          ("dcgan64", 32, 128, 3)]

# pylint: disable=protected-access
FORMS = {
    "conv_transpose": lambda x, w: lax.conv_transpose(
        x, w, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")),
    "stacked": lambda x, w: subpixel._stacked_conv_transpose(x, w, (2, 2), None),
    "per_phase": lambda x, w: subpixel._per_phase_conv_transpose(x, w, (2, 2), None),
}
# pylint: enable=protected-access


def milliseconds(fn, args, repeats):
  fn = jax.jit(fn)
  jax.block_until_ready(fn(*args))
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    times.append((time.perf_counter() - start) * 1e3)
  return statistics.median(times)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--models", default="dcgan28,dcgan64")
  args = parser.parse_args(argv)
  device = jax.local_devices()[0]
  for model, side, channels_in, channels_out in LAYERS:
    if model not in args.models.split(","):
      continue
    x = jax.random.normal(jax.random.key(0), (args.batch_size, side, side, channels_in))
    w = 0.02 * jax.random.normal(jax.random.key(1), (4, 4, channels_in, channels_out))
    for form, fn in FORMS.items():
      loss = lambda x, w, fn=fn: jnp.sum(jnp.square(fn(x, w)))
      print(json.dumps({
          "model": model, "layer": f"{side}x{side}x{channels_in} -> "
                                   f"{2 * side}x{2 * side}x{channels_out}",
          "form": form, "batch_size": args.batch_size,
          "forward_ms": round(milliseconds(fn, (x, w), args.repeats), 2),
          "forward_backward_ms": round(milliseconds(jax.grad(loss, argnums=(0, 1)), (x, w),
                                                    args.repeats), 2),
          "device": f"{device.platform}: {getattr(device, 'device_kind', '')}",
          "jax": jax.__version__, "loadavg": [round(v, 2) for v in os.getloadavg()]}),
            flush=True)


if __name__ == "__main__":
  main()
