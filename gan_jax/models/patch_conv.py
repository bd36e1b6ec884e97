"""Convolutions on maps not much larger than their kernel, as one matmul over explicit patches.

XLA:CPU's convolution falls off a cliff when the kernel is larger than the map it reads or
writes (docs/performance.md, "Small maps"): a 5x5 stride-2 convolution of a 4x4x256 map to
2x2x512 took 7.2 s forward for a batch of 64, the backward of a 7x7 -> 4x4 one 1.5 s, and a 3x3
convolution of a 2x2x512 map 9.5 s, where the same functions as strided slices and one matmul
took 50, 130 and 53 ms. The patch form (im2col) pads the map, takes the kh x kw shifted, strided
views of it, stacks them on the channels and multiplies by the kernel reshaped to
[kh * kw * in, out]; its gradients are slices, pads and matmuls. The parameters (kernel
[kh, kw, in, out], bias) are exactly `nn.Conv`'s, so checkpoints and the networks do not change;
only how XLA computes the layer does. Where the map is larger than the kernel XLA's convolution
is as fast or faster and is kept, and on GPUs and TPUs it always is.
"""

from typing import Any, Callable, Optional, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

# "auto": patches on CPU where `slow_on_cpu` says so, else XLA's convolution; "lax": always
# XLA's; "patches": always patches.
METHODS = ("auto", "lax", "patches")
_DIMENSIONS = ("NHWC", "HWIO", "NHWC")


def same_padding(size, kernel, stride):
  """(output size, (low, high) zeros) of a "SAME" convolution along one axis (TensorFlow's and
  XLA's rule: output ceil(size / stride), the padding split with the extra zero after)."""
  out = -(-size // stride)
  total = max((out - 1) * stride + kernel - size, 0)
  return out, (total // 2, total - total // 2)


def slow_on_cpu(in_size, out_size, kernel_size):
  """Whether XLA:CPU's convolution is on its slow path: on some axis the kernel is larger than
  the map read (forward) or written (the input gradient's transposed convolution)."""
  return any(k > min(i, o) for i, o, k in zip(in_size, out_size, kernel_size))


def patch_conv(x, kernel, strides, padding):
  """= `lax.conv_general_dilated(x, kernel, strides, padding)` (NHWC, HWIO; padding a pair of
  (low, high) per spatial axis) as one matmul over the stacked shifted views of x."""
  (kh, kw), (sh, sw) = kernel.shape[:2], strides
  x = jnp.pad(x, ((0, 0), tuple(padding[0]), tuple(padding[1]), (0, 0)))
  out_h = (x.shape[1] - kh) // sh + 1
  out_w = (x.shape[2] - kw) // sw + 1
  views = [x[:, i:i + (out_h - 1) * sh + 1:sh, j:j + (out_w - 1) * sw + 1:sw, :]
           for i in range(kh) for j in range(kw)]
  patches = jnp.concatenate(views, axis=-1)  # [batch, out_h, out_w, kh * kw * in], tap-major.
  return jnp.dot(patches, kernel.reshape(-1, kernel.shape[-1]))


def conv(x, kernel, strides, padding, method="auto", precision=None):
  """A 2-D convolution (NHWC, HWIO, explicit (low, high) padding per axis) by `method`."""
  if method not in METHODS:
    raise ValueError(f"Unknown convolution method {method!r}; expected one of {METHODS}.")
  if method == "auto":
    out_size = [(size + low + high - k) // s + 1 for size, (low, high), k, s in
                zip(x.shape[1:3], padding, kernel.shape[:2], strides)]
    slow = jax.default_backend() == "cpu" and slow_on_cpu(x.shape[1:3], out_size,
                                                          kernel.shape[:2])
    method = "patches" if slow else "lax"
  if method == "patches":
    return patch_conv(x, kernel, strides, padding)
  return lax.conv_general_dilated(x, kernel, tuple(strides), tuple(map(tuple, padding)),
                                  dimension_numbers=_DIMENSIONS, precision=precision)


class Conv(nn.Module):
  """`nn.Conv(features, kernel_size, strides, padding="SAME")`: the same parameters, names
  (auto-named "Conv_<i>" like it) and function, computed by `conv` with `method`."""

  features: int
  kernel_size: Sequence[int]
  strides: Sequence[int] = (1, 1)
  kernel_init: Callable[..., Any] = nn.initializers.lecun_normal()
  bias_init: Callable[..., Any] = nn.initializers.zeros_init()
  dtype: Optional[Any] = None
  param_dtype: Any = jnp.float32
  method: str = "auto"

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", self.kernel_init,
                        tuple(self.kernel_size) + (x.shape[-1], self.features), self.param_dtype)
    bias = self.param("bias", self.bias_init, (self.features,), self.param_dtype)
    x, kernel, bias = nn.dtypes.promote_dtype(x, kernel, bias, dtype=self.dtype)
    padding = [same_padding(size, k, s)[1]
               for size, k, s in zip(x.shape[1:3], self.kernel_size, self.strides)]
    return conv(x, kernel, self.strides, padding, self.method) + bias
