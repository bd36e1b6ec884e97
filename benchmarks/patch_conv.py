"""Speed of convolutions on small maps: XLA's form against the patch form, per layer and per step.

    PYTHONPATH=. python benchmarks/patch_conv.py                  # layers, then the whole step
    PYTHONPATH=. python benchmarks/patch_conv.py --step_repeats=0  # layers only

The layers are the convolutions of PacGAN's Stacked MNIST networks (configs/
pacgan_stacked_mnist.py: D's 5x5 stride-2 convolutions 28 -> 14 -> 7 -> 4 -> 2 and the stride-1
convolutions of G's sub-pixel up-sampling), batch --batch_size: milliseconds for the forward pass
and for forward + backward (gradients of the input and the kernel), median of --repeats jitted
calls after a warm-up call, for
  lax      `lax.conv_general_dilated` (what `nn.Conv` runs),
  patches  one matmul over the stacked shifted views (`gan_jax.models.patch_conv`),
and what `method="auto"` picks. Then the config's whole train step (1 D and 2 G updates, pack 1)
with every convolution on XLA's form against "auto", seconds per step, median of
--step_repeats steps. One JSON line per row. Imports no TensorFlow.
"""

import argparse
import functools
import json
import os
import statistics
import sys
import time

if __package__ in (None, ""):  # Run as a script: make `gan_jax` and `configs` importable.
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # pylint: disable=g-import-not-at-top
import jax.numpy as jnp

from gan_jax import train_state, train_step
from benchmarks.upsampling import milliseconds
from gan_jax.models import patch_conv

# (network, input side, in channels, out channels, kernel, stride).
LAYERS = [("D", 28, 3, 64, 5, 2), ("D", 14, 64, 128, 5, 2), ("D", 7, 128, 256, 5, 2),
          ("D", 4, 256, 512, 5, 2), ("G sub-pixel", 2, 512, 1024, 3, 1),
          ("G sub-pixel", 4, 256, 512, 3, 1), ("G sub-pixel", 7, 128, 256, 3, 1)]


def layer_rows(batch_size, repeats):
  for network, side, channels_in, channels_out, kernel, stride in LAYERS:
    x = jax.random.normal(jax.random.key(0), (batch_size, side, side, channels_in))
    w = 0.02 * jax.random.normal(jax.random.key(1), (kernel, kernel, channels_in, channels_out))
    out, pad = patch_conv.same_padding(side, kernel, stride)
    padding = (pad, pad)
    picked = "patches" if patch_conv.slow_on_cpu((side, side), (out, out), (kernel, kernel)) else (
        "lax")
    for method in ("lax", "patches"):
      forward = functools.partial(patch_conv.conv, strides=(stride, stride), padding=padding,
                                  method=method)
      both = jax.grad(lambda x, w, f=forward: jnp.sum(f(x, w) ** 2), argnums=(0, 1))
      yield {"layer": f"{network} {side}x{side}x{channels_in} -> {out}x{out}x{channels_out} "
                      f"k{kernel} s{stride}", "method": method, "auto_picks": picked,
             "forward_ms": round(milliseconds(forward, (x, w), repeats), 2),
             "forward_backward_ms": round(milliseconds(both, (x, w), repeats), 2),
             "batch_size": batch_size}


def step_rows(repeats):
  from configs import pacgan_stacked_mnist  # pylint: disable=g-import-not-at-top
  config = pacgan_stacked_mnist.get_config()
  batch = {"image": jax.random.uniform(jax.random.key(2), (config.batch_size, 28, 28, 3))}
  original = patch_conv.slow_on_cpu
  for forms in ("lax", "auto"):
    if forms == "lax":  # Every convolution on XLA's form.
      patch_conv.slow_on_cpu = lambda *args: False
    state = train_state.state_from_config(config, (28, 28, 3), jax.random.key(0))
    step = jax.jit(functools.partial(train_step.train_step,
                                     options=train_step.StepOptions.from_config(config)))
    state, _ = step(state, batch, jax.random.key(1))  # Compiles (the forms are traced here).
    patch_conv.slow_on_cpu = original
    jax.block_until_ready(state)
    times = []
    for _ in range(repeats):
      start = time.perf_counter()
      state, metrics = step(state, batch, jax.random.key(1))
      jax.block_until_ready((state, metrics))
      times.append(time.perf_counter() - start)
    yield {"step": "configs/pacgan_stacked_mnist.py, pack 1", "convolutions": forms,
           "seconds_per_step": round(statistics.median(times), 3), "steps": repeats}


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--step_repeats", type=int, default=3,
                      help="Timed steps of the whole train step (0: skip it).")
  parser.add_argument("--layers", action=argparse.BooleanOptionalAction, default=True)
  args = parser.parse_args(argv)
  if args.layers:
    for row in layer_rows(args.batch_size, args.repeats):
      print(json.dumps(row), flush=True)
  if args.step_repeats:
    for row in step_rows(args.step_repeats):
      print(json.dumps(row), flush=True)


if __name__ == "__main__":
  main()
