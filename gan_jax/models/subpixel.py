"""Transposed convolutions computed as stride-1 convolutions plus depth-to-space (sub-pixel).

`lax.conv_transpose(x, w, strides=(s, s), padding="SAME")` correlates an input dilated with
s - 1 zeros between pixels with the kernel. Output pixel s*q + r (phase r) only ever meets the
kernel taps j = r + s*d - low of its phase, applied to x[q + d] for a few offsets d. So the same
function is a set of stride-1 convolutions of the undilated x, one per phase with that phase's
taps (about k/s of them per axis), whose outputs are interleaved back into pixels
(depth-to-space; Shi et al. 2016, "Real-Time Single Image and Video Super-Resolution Using an
Efficient Sub-Pixel Convolutional Neural Network"). For few output channels the phases are
stacked into one convolution's output channels instead.

Why: on XLA:CPU the transposed convolution's backward pass is pathologically slow (a 4x4
stride-2 layer of the 28x28 DCGAN: 17 ms forward, 300 ms forward + backward; a DCGAN-64 layer
0.2 s and 16 s), and the profile of the 28x28 DCGAN step put 61% of its time in these
"base-dilated" convolutions (docs/performance.md). The phase form's forward and gradients are
plain stride-1 convolutions (31 ms and 0.8 s for those two layers). The parameters (kernel
[kh, kw, in, out], bias) are exactly `nn.ConvTranspose`'s, so checkpoints and the networks do not
change; only how XLA computes the layer does. The stride-1 convolutions go through
`gan_jax.models.patch_conv` (its patch form on small maps on CPU).
"""

from typing import Any, Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from gan_jax.models import patch_conv


def _same_padding_low(kernel, stride):
  """The zeros `lax.conv_transpose` puts before the dilated input for "SAME" (jax's rule)."""
  if stride > kernel - 1:
    return kernel - 1
  return int(np.ceil((kernel + stride - 2) / 2))


def _phase_taps(kernel, stride):
  """For each phase r: {offset d: kernel tap j}, so out[s*q + r] = sum_d x[q + d] * w[j]."""
  low = _same_padding_low(kernel, stride)
  taps = []
  for r in range(stride):
    # Dilated position q*s + r + j - low must hold an input pixel: i = (r + j - low) / s + q.
    taps.append({(r + j - low) // stride: j for j in range(kernel) if (r + j - low) % stride == 0})
  return taps


def subpixel_kernel(kernel, strides):
  """[kh, kw, in, out] -> [Lh, Lw, in, sh * sw * out] stride-1 kernel, and the (low, high)
  padding of x for each spatial axis."""
  axis_taps = [_phase_taps(k, s) for k, s in zip(kernel.shape[:2], strides)]
  offsets = [sorted({d for phase in taps for d in phase}) for taps in axis_taps]
  (h_min, h_max), (w_min, w_max) = [(o[0], o[-1]) for o in offsets]
  # Gather the taps with one index array (zero tap where a phase has no tap at an offset).
  kh, kw = kernel.shape[:2]
  padded = jnp.pad(kernel, ((0, 1), (0, 1), (0, 0), (0, 0)))  # Index kh / kw = zeros.
  rows = np.full((h_max - h_min + 1, strides[0]), kh)
  cols = np.full((w_max - w_min + 1, strides[1]), kw)
  for r, phase in enumerate(axis_taps[0]):
    for d, j in phase.items():
      rows[d - h_min, r] = j
  for r, phase in enumerate(axis_taps[1]):
    for d, j in phase.items():
      cols[d - w_min, r] = j
  # [Lh, sh, Lw, sw, in, out] -> [Lh, Lw, in, sh, sw, out]
  stacked = padded[rows[:, :, None, None], cols[None, None, :, :]]
  stacked = jnp.transpose(stacked, (0, 2, 4, 1, 3, 5))
  stacked = stacked.reshape(stacked.shape[:3] + (-1,))
  return stacked, ((-h_min, h_max), (-w_min, w_max))


def _stacked_conv_transpose(x, kernel, strides, precision):
  """All phases in one stride-1 convolution (their taps stacked on the output channels), then
  depth-to-space."""
  batch, height, width, _ = x.shape
  stacked, padding = subpixel_kernel(kernel, strides)
  y = patch_conv.conv(x, stacked, (1, 1), padding, precision=precision)
  sh, sw = strides
  y = y.reshape((batch, height, width, sh, sw, kernel.shape[-1]))
  y = jnp.transpose(y, (0, 1, 3, 2, 4, 5))
  return y.reshape((batch, height * sh, width * sw, kernel.shape[-1]))


def _per_phase_conv_transpose(x, kernel, strides, precision):
  """One stride-1 convolution per phase with only that phase's taps, then interleaved."""
  batch, height, width, _ = x.shape
  (sh, sw), features = strides, kernel.shape[-1]
  taps_h, taps_w = (_phase_taps(k, s) for k, s in zip(kernel.shape[:2], strides))
  rows = []
  for phase_h in taps_h:
    cols = []
    for phase_w in taps_w:
      if not phase_h or not phase_w:  # A phase no tap reaches: zeros of the dilation.
        cols.append(jnp.zeros((batch, height, width, features), x.dtype))
        continue
      dh, dw = sorted(phase_h), sorted(phase_w)
      # Offsets are consecutive (taps j = r + s*d - low): the phase's kernel, in offset order.
      phase_kernel = kernel[np.array([phase_h[d] for d in dh])][:, np.array([phase_w[d]
                                                                              for d in dw])]
      cols.append(patch_conv.conv(x, phase_kernel, (1, 1), ((-dh[0], dh[-1]), (-dw[0], dw[-1])),
                                  precision=precision))
    rows.append(jnp.stack(cols, axis=3))  # [batch, height, width, sw, features]
  y = jnp.stack(rows, axis=2)  # [batch, height, sh, width, sw, features]
  return y.reshape((batch, height * sh, width * sw, features))


# Below this many output channels one stacked convolution beats a convolution per phase (XLA:CPU,
# docs/performance.md: an output layer to 1 or 3 channels ran 2x faster stacked; layers of 64+
# channels ran 2x faster per phase).
_STACKED_BELOW_FEATURES = 8


def subpixel_conv_transpose(x, kernel, strides, precision=None):
  """= `lax.conv_transpose(x, kernel, strides, "SAME")` (NHWC, HWIO) to float rounding."""
  strides = tuple(strides)
  if kernel.shape[-1] < _STACKED_BELOW_FEATURES:
    return _stacked_conv_transpose(x, kernel, strides, precision)
  return _per_phase_conv_transpose(x, kernel, strides, precision)


class SubPixelConvTranspose(nn.Module):
  """`nn.ConvTranspose(features, kernel_size, strides, padding="SAME")`, same parameters and
  function, computed by `subpixel_conv_transpose`."""

  features: int
  kernel_size: Sequence[int]
  strides: Sequence[int]
  kernel_init: Callable[..., Any] = nn.initializers.lecun_normal()
  bias_init: Callable[..., Any] = nn.initializers.zeros_init()
  dtype: Any = None
  param_dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", self.kernel_init,
                        tuple(self.kernel_size) + (x.shape[-1], self.features), self.param_dtype)
    bias = self.param("bias", self.bias_init, (self.features,), self.param_dtype)
    x, kernel, bias = nn.dtypes.promote_dtype(x, kernel, bias, dtype=self.dtype)
    return subpixel_conv_transpose(x, kernel, tuple(self.strides)) + bias
