"""Differentiable augmentation of every image the discriminator sees: DiffAugment and ADA.

With a few thousand training images D memorises them and G stops improving. The remedy of both
papers below is to augment *every* image D sees, real and generated, in D's update and in G's,
with transformations that are differentiable in the image: G learns through them, and D never
judges an image that was not augmented. (Augmenting only the real images teaches G to generate
augmented images.) `config.augment.method` picks one:

  * "diffaugment": Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training"
    (2020). Fixed policies applied to every image: "color" (brightness, saturation, contrast),
    "translation" (up to 1/8 of the side, zero fill) and "cutout" (a half-side square set to 0),
    as defined in the authors' DiffAugment_pytorch.py and DiffAugment_tf.py
    (github.com/mit-han-lab/data-efficient-gans).
  * "ada": Karras et al., "Training Generative Adversarial Networks with Limited Data" (2020).
    Each transformation is applied with probability p: the "blit" group (x-flip, 90° rotations,
    integer translation with reflection) and the "color" group (brightness, contrast, luma flip,
    hue rotation, saturation), as defined in training/augment.py of
    github.com/NVlabs/stylegan2-ada-pytorch (its `AugmentPipe`; the general geometric and
    filtering groups are not implemented here). p follows an overfitting heuristic during
    training (`AdaState`, `adjust_ada`); below p ~ 0.8 the transformations do not "leak" into
    the generated images (the paper's Figure 3).

Random choices are explicit and per example: `draw(rng, num, image_shape, options)` draws the
parameters of `num` images and `apply(images, params, options, p)` applies them. The train step
draws a whole global batch's parameters and gives each device its slice
(`objectives.augmentation`), so N devices augment exactly as one does; tests apply chosen
parameters. Images are [B, H, W, C] in the run's value range: each transformation is defined on
[-1, 1], the range both authors' code works in, and the images are mapped there and back (so a
fill value 0 is the middle of the range, and a brightness shift of 0.5 is a quarter of it).

Pure jax.numpy (and flax.struct for the controller's state): no TensorFlow.
"""

import dataclasses
import math
from typing import Tuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from gan_jax.errors import is_int, is_number, require

# `config.augment.method`.
METHODS = ("none", "diffaugment", "ada")
# DiffAugment's policies (`config.augment.diffaugment_policy`, comma-separated).
DIFFAUGMENT_POLICIES = ("color", "translation", "cutout")
# ADA's transformations in the order its pipeline applies them, and its groups
# (`config.augment.ada_pipeline`, comma-separated names of either).
ADA_BLIT = ("xflip", "rotate90", "xint")
ADA_COLOR = ("brightness", "contrast", "lumaflip", "hue", "saturation")
ADA_OPERATIONS = ADA_BLIT + ADA_COLOR
ADA_GROUPS = {"blit": ADA_BLIT, "color": ADA_COLOR}

# ADA's strengths (AugmentPipe's defaults): integer translation up to 1/8 of the side; std of
# brightness; log2 std of contrast and saturation; hue rotation up to a full turn.
XINT_MAX = 0.125
BRIGHTNESS_STD = 0.2
CONTRAST_STD = 0.5
SATURATION_STD = 1.0
HUE_MAX = 1.0


def parse_operations(method, diffaugment_policy, ada_pipeline):
  """The operations a method applies, in the order it applies them (ADA: its pipeline's order,
  whatever the order listed). Unknown names raise ValueError (`validate` says it to users)."""
  if method == "none":
    return ()
  if method == "diffaugment":
    names = [name.strip() for name in diffaugment_policy.split(",") if name.strip()]
    unknown = [name for name in names if name not in DIFFAUGMENT_POLICIES]
    if unknown or not names:
      raise ValueError(f"DiffAugment policy {diffaugment_policy!r}: use a comma-separated "
                       f"selection of {DIFFAUGMENT_POLICIES}.")
    return tuple(names)
  names = set()
  for name in (name.strip() for name in ada_pipeline.split(",") if name.strip()):
    if name not in ADA_GROUPS and name not in ADA_OPERATIONS:
      raise ValueError(f"ADA pipeline {ada_pipeline!r}: use a comma-separated selection of "
                       f"{tuple(ADA_GROUPS)} and {ADA_OPERATIONS}.")
    names.update(ADA_GROUPS.get(name, (name,)))
  if not names:
    raise ValueError(f"ADA pipeline {ada_pipeline!r} names no transformation.")
  return tuple(name for name in ADA_OPERATIONS if name in names)


@dataclasses.dataclass(frozen=True)
class AugmentOptions:
  """A run's augmentation (hashable: part of the train step's static options).

  Attributes:
    method: one of `METHODS`.
    operations: DiffAugment's policies or ADA's transformations, in the order they are applied
      (`parse_operations`).
    value_range: (low, high) of the images (`config.data.value_range`).
    ada_target: ADA's target for r_t = E[sign(D(x_real))].
    ada_interval: train steps between two adjustments of p; 0 keeps p fixed.
    ada_kimg: thousands of real images over which p can move by 1 (the adjustment speed).
  """

  method: str = "none"
  operations: Tuple[str, ...] = ()
  value_range: Tuple[float, float] = (-1.0, 1.0)
  ada_target: float = 0.6
  ada_interval: int = 4
  ada_kimg: float = 500.0

  @property
  def enabled(self):
    return self.method != "none"

  @classmethod
  def from_config(cls, config):
    """The options of a run's (validated) config: `config.augment` and the data's range."""
    augment = config.augment
    operations = parse_operations(augment.method, augment.diffaugment_policy,
                                  augment.ada_pipeline)
    return cls(method=augment.method, operations=operations,
               value_range=tuple(float(v) for v in config.data.value_range),
               ada_target=float(augment.ada_target), ada_interval=int(augment.ada_interval),
               ada_kimg=float(augment.ada_kimg))


# ---------------------------------------------------------------------------------------------
# Random parameters: one draw per example.


def _draw_diffaugment(name, key, num, height, width):
  if name == "color":
    brightness, saturation, contrast = jax.random.split(key, 3)
    return {"color_brightness": jax.random.uniform(brightness, (num,)),
            "color_saturation": jax.random.uniform(saturation, (num,)),
            "color_contrast": jax.random.uniform(contrast, (num,))}
  rows, cols = jax.random.split(key)
  if name == "translation":
    # Up to 1/8 of each side, both ways (their ratio=[1, 8]).
    max_rows, max_cols = height // 8, width // 8
    return {"translation": jnp.stack(
        [jax.random.randint(rows, (num,), -max_rows, max_rows + 1),
         jax.random.randint(cols, (num,), -max_cols, max_cols + 1)], axis=1)}
  # cutout: the centre of a (H // 2) x (W // 2) square, as their offsets are drawn.
  size_rows, size_cols = height // 2, width // 2
  return {"cutout": jnp.stack(
      [jax.random.randint(rows, (num,), 0, height + 1 - size_rows % 2),
       jax.random.randint(cols, (num,), 0, width + 1 - size_cols % 2)], axis=1)}


def _draw_ada(name, key, num, height, width):
  apply_key, key = jax.random.split(key)
  params = {f"{name}_apply": jax.random.uniform(apply_key, (num,))}
  if name in ("xflip", "lumaflip"):
    value = jax.random.randint(key, (num,), 0, 2)
  elif name == "rotate90":
    value = jax.random.randint(key, (num,), 0, 4)
  elif name == "xint":
    # (x, y) shifts, uniform in +-XINT_MAX of the side, rounded to whole pixels; stored as
    # (rows, columns).
    t = jax.random.uniform(key, (num, 2), minval=-1.0, maxval=1.0) * XINT_MAX
    value = jnp.stack([jnp.round(t[:, 1] * height), jnp.round(t[:, 0] * width)],
                      axis=1).astype(jnp.int32)
  elif name == "brightness":
    value = jax.random.normal(key, (num,)) * BRIGHTNESS_STD
  elif name == "contrast":
    value = jnp.exp2(jax.random.normal(key, (num,)) * CONTRAST_STD)
  elif name == "hue":
    value = jax.random.uniform(key, (num,), minval=-1.0, maxval=1.0) * jnp.pi * HUE_MAX
  else:  # saturation
    value = jnp.exp2(jax.random.normal(key, (num,)) * SATURATION_STD)
  params[name] = value
  return params


def draw(rng, num, image_shape, options):
  """Each example's random parameters for `num` images of `image_shape` (H, W, C).

  Returns:
    {name: array with leading axis num}; {} when augmentation is off. Each operation draws from
    its own key (folded from rng with the operation's index), so adding one leaves the others'
    draws unchanged.
  """
  height, width = image_shape[0], image_shape[1]
  params = {}
  if options.method == "diffaugment":
    for name in options.operations:
      key = jax.random.fold_in(rng, DIFFAUGMENT_POLICIES.index(name))
      params.update(_draw_diffaugment(name, key, num, height, width))
  elif options.method == "ada":
    for name in options.operations:
      key = jax.random.fold_in(rng, ADA_OPERATIONS.index(name))
      params.update(_draw_ada(name, key, num, height, width))
  return params


# ---------------------------------------------------------------------------------------------
# The transformations, on images in [-1, 1].


def _per_example(values):
  return values[:, None, None, None]


def shift_images(x, offsets, reflect):
  """out[b, i, j] = x[b, i + offsets[b, 0], j + offsets[b, 1]]; outside the image: 0, or the
  mirror image across the border (`reflect`, no border pixel repeated; |offsets| < side)."""
  num, height, width, _ = x.shape
  rows = jnp.arange(height)[None, :] + offsets[:, 0:1]
  cols = jnp.arange(width)[None, :] + offsets[:, 1:2]
  if reflect:
    mirror = lambda i, size: (size - 1) - jnp.abs((size - 1) - jnp.abs(i))
    rows, cols = mirror(rows, height), mirror(cols, width)
    inside = None
  else:
    inside = (((rows >= 0) & (rows < height))[:, :, None]
              & ((cols >= 0) & (cols < width))[:, None, :])
    rows, cols = jnp.clip(rows, 0, height - 1), jnp.clip(cols, 0, width - 1)
  out = x[jnp.arange(num)[:, None, None], rows[:, :, None], cols[:, None, :]]
  return out if inside is None else jnp.where(inside[..., None], out, 0.0)


def diffaugment_color(x, params):
  """Brightness + (u - 0.5), then saturation (x - channel mean) * 2u + channel mean, then
  contrast (x - image mean) * (u + 0.5) + image mean; each u ~ U[0, 1) per image."""
  x = x + _per_example(params["color_brightness"] - 0.5)
  mean = jnp.mean(x, axis=-1, keepdims=True)
  x = (x - mean) * _per_example(2.0 * params["color_saturation"]) + mean
  mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
  return (x - mean) * _per_example(params["color_contrast"] + 0.5) + mean


def diffaugment_translation(x, params):
  """out[i, j] = x[i + t_rows, j + t_cols] (0 outside), integer t up to 1/8 of the side."""
  return shift_images(x, params["translation"], reflect=False)


def diffaugment_cutout(x, params):
  """Zeroes a (H // 2) x (W // 2) square whose top-left corner is centre - size // 2, clipped to
  the image (the centre is drawn in [0, H + 1 - (H // 2) % 2))."""
  _, height, width, _ = x.shape
  size = jnp.asarray([height // 2, width // 2])
  start = params["cutout"] - size // 2
  rows, cols = jnp.arange(height)[None, :], jnp.arange(width)[None, :]
  in_rows = (rows >= start[:, 0:1]) & (rows < start[:, 0:1] + size[0])
  in_cols = (cols >= start[:, 1:2]) & (cols < start[:, 1:2] + size[1])
  keep = ~(in_rows[:, :, None] & in_cols[:, None, :])
  return x * keep[..., None].astype(x.dtype)


DIFFAUGMENT_FUNCTIONS = {"color": diffaugment_color, "translation": diffaugment_translation,
                         "cutout": diffaugment_cutout}

# The luma axis (1, 1, 1)/sqrt(3) of homogeneous RGB colours (r, g, b, 1), its projector, and
# its cross-product matrix (the generator of rotations about it). numpy: no device work at import.
_LUMA = np.asarray([1.0, 1.0, 1.0, 0.0], np.float32) / np.sqrt(3.0).astype(np.float32)
_LUMA_PROJECTOR = np.outer(_LUMA, _LUMA)
_LUMA_CROSS = np.asarray([[0, -1, 1, 0], [1, 0, -1, 0], [-1, 1, 0, 0], [0, 0, 0, 0]],
                         np.float32) / np.sqrt(3.0).astype(np.float32)
_RGB = np.diag(np.asarray([1.0, 1.0, 1.0, 0.0], np.float32))
_HOMOGENEOUS = np.eye(4, dtype=np.float32) - _RGB
_OFFSET = np.zeros((4, 4), np.float32)
_OFFSET[:3, 3] = 1.0


def _batched(scalars, matrix):
  return scalars[:, None, None] * matrix


def ada_color_matrices(params, operations, applied, num_channels):
  """[n, 4, 4] homogeneous colour transforms C (colour_out = C @ (r, g, b, 1)), composed as ADA's
  pipeline composes them: brightness, then contrast, luma flip, hue, saturation. Hue and
  saturation act on RGB only (ADA skips them for one channel: they leave grey unchanged)."""
  num = next(iter(params.values())).shape[0]
  matrix = jnp.broadcast_to(jnp.eye(4), (num, 4, 4))
  for name in operations:
    if name in ("hue", "saturation") and num_channels == 1:
      continue
    if name == "brightness":  # Add b to every channel.
      step = jnp.eye(4) + _batched(jnp.where(applied(name), params[name], 0.0), _OFFSET)
    elif name == "contrast":  # Scale every channel by c (around 0, the middle of [-1, 1]).
      c = jnp.where(applied(name), params[name], 1.0)
      step = _batched(c, _RGB) + _HOMOGENEOUS
    elif name == "lumaflip":  # Householder reflection across the plane normal to the luma axis.
      flip = jnp.where(applied(name), params[name], 0).astype(jnp.float32)
      step = jnp.eye(4) - 2.0 * _batched(flip, _LUMA_PROJECTOR)
    elif name == "hue":  # Rotation by theta about the luma axis (Rodrigues).
      theta = jnp.where(applied(name), params[name], 0.0)
      step = (_LUMA_PROJECTOR + _batched(jnp.cos(theta), _RGB - _LUMA_PROJECTOR)
              + _batched(jnp.sin(theta), _LUMA_CROSS) + _HOMOGENEOUS)
    elif name == "saturation":  # Scale the chroma (the part orthogonal to the luma axis) by s.
      s = jnp.where(applied(name), params[name], 1.0)
      step = _LUMA_PROJECTOR + _batched(s, _RGB - _LUMA_PROJECTOR) + _HOMOGENEOUS
    else:
      continue
    matrix = step @ matrix
  return matrix


def _apply_color_matrices(x, matrix):
  """RGB: each pixel through C; one channel: the grey image as (x, x, x) through C, then the
  mean of the three outputs (ADA's rule)."""
  if x.shape[-1] == 3:
    return (jnp.einsum("bij,bhwj->bhwi", matrix[:, :3, :3], x)
            + matrix[:, None, None, :3, 3])
  row = jnp.mean(matrix[:, :3, :], axis=1)
  return x * _per_example(jnp.sum(row[:, :3], axis=1)) + _per_example(row[:, 3])


def ada_augment(x, params, operations, p):
  """ADA's pipeline on images in [-1, 1]: each listed transformation applied with probability p
  (per image and transformation), in ADA's order: x-flip (with probability p, a flip or not at
  1/2 each), a rotation by k·90° (k uniform in 0..3), an integer translation with reflected
  borders, then the colour transformations (`ada_color_matrices`)."""
  _, height, width, channels = x.shape
  applied = lambda name: params[f"{name}_apply"] < p
  if "xflip" in operations:
    flip = applied("xflip") & (params["xflip"] == 1)
    x = jnp.where(flip[:, None, None, None], x[:, :, ::-1], x)
  if "rotate90" in operations:
    if height != width:
      raise ValueError(f"ADA's 90° rotations need square images, not {height}x{width}; leave "
                       "rotate90 out of config.augment.ada_pipeline.")
    k = jnp.where(applied("rotate90"), params["rotate90"], 0)
    rotated = x
    for i in range(1, 4):
      rotated = jnp.where(_per_example(k == i), jnp.rot90(x, i, axes=(1, 2)), rotated)
    x = rotated
  if "xint" in operations:
    # ADA maps each output pixel to input pixel (out - t): out[i] = x[i - t].
    shift = jnp.where(applied("xint")[:, None], params["xint"], 0)
    x = shift_images(x, -shift, reflect=True)
  color = [name for name in operations if name in ADA_COLOR]
  if color:
    if channels not in (1, 3):
      raise ValueError(f"ADA's colour transformations need 1 or 3 channels, not {channels}; "
                       "use config.augment.ada_pipeline='blit'.")
    x = _apply_color_matrices(x, ada_color_matrices(params, color, applied, channels))
  return x


def apply(images, params, options, p=None):
  """`images` [B, H, W, C] augmented with `draw`'s `params`; ADA needs the probability p.

  Differentiable in `images` (translations and rotations are gathers, colours affine maps).
  """
  if not options.enabled:
    return images
  low, high = options.value_range
  centre, half = (low + high) / 2.0, (high - low) / 2.0
  x = (images - centre) / half
  if options.method == "diffaugment":
    for name in options.operations:
      x = DIFFAUGMENT_FUNCTIONS[name](x, params)
  else:
    if p is None:
      raise ValueError("ADA augments with probability p: pass the state's `ada.p` "
                       "(create_train_state(ada_p=...)).")
    x = ada_augment(x, params, options.operations, p)
  return (x * half + centre).astype(images.dtype)


def augment(images, rng, options, p=None):
  """`apply(images, draw(rng, ...), options, p)`: one call for a whole batch on one device."""
  return apply(images, draw(rng, images.shape[0], images.shape[1:], options), options, p)


# ---------------------------------------------------------------------------------------------
# ADA's controller: p follows the sign of D's outputs on real images.


class AdaState(struct.PyTreeNode):
  """ADA's probability p and the running sums of its overfitting heuristic.

  Part of the train state (`GANState.ada`), so checkpoints keep it and a resumed run continues
  with the same p and sums, bit for bit.
  """

  p: jax.Array  # float32 []: the probability of each transformation.
  sign_sum: jax.Array  # float32 []: sum over D updates since the last adjustment of
  #   E[sign(D(x_real))] on that update's (augmented) real batch.
  num_updates: jax.Array  # int32 []: D updates in `sign_sum`.

  @classmethod
  def create(cls, p=0.0):
    return cls(p=jnp.asarray(p, jnp.float32), sign_sum=jnp.zeros((), jnp.float32),
               num_updates=jnp.zeros((), jnp.int32))


def accumulate_signs(ada, mean_sign):
  """Adds one D update's E[sign(D(x_real))] (over the global batch) to the running sums."""
  if ada is None or mean_sign is None:
    return ada
  return ada.replace(sign_sum=ada.sign_sum + mean_sign, num_updates=ada.num_updates + 1)


def adjust_ada(ada, num_steps, images_per_update, options):
  """After the run's `num_steps`-th step: every `ada_interval` steps, p moves towards the target.

  r_t = E[sign(D(x_real))] over the interval's D updates (they have equal batches); p +=
  sign(r_t - target) * (images shown over the interval) / (ada_kimg * 1000), clipped to [0, 1],
  and the sums restart. That is stylegan2-ada-pytorch's training/training_loop.py ("Execute ADA
  heuristic": adjust = sign(r_t - ada_target) * (batch_size * ada_interval) / (ada_kimg * 1000),
  p kept >= 0) with its defaults ada_interval 4 and ada_kimg 500 and train.py's target 0.6; the
  upper clip at 1 is ours. r_t > target says D is confident on real images (overfitting): more
  augmentation; r_t < target: less. A fixed p (ada_interval 0) is left alone (the sums restart
  every step).

  Args:
    ada: an `AdaState`.
    num_steps: steps completed (the state's step after this one).
    images_per_update: real images in one D update's global batch.
    options: `AugmentOptions`.
  """
  if options.ada_interval == 0:
    return AdaState.create(ada.p)
  due = num_steps % options.ada_interval == 0
  r_t = ada.sign_sum / jnp.maximum(ada.num_updates, 1).astype(jnp.float32)
  images = (ada.num_updates * images_per_update).astype(jnp.float32)
  adjustment = jnp.sign(r_t - options.ada_target) * images / (options.ada_kimg * 1000.0)
  p = jnp.clip(ada.p + adjustment, 0.0, 1.0)
  return AdaState(p=jnp.where(due, p, ada.p),
                  sign_sum=jnp.where(due, jnp.zeros_like(ada.sign_sum), ada.sign_sum),
                  num_updates=jnp.where(due, jnp.zeros_like(ada.num_updates), ada.num_updates))


def validate(config, points=False):
  """The `config.augment` fields; `points`: the data are 2-D points (nothing to augment)."""
  augment = config.augment
  require(augment.method in METHODS, "augment.method", augment.method,
          f"choose one of {METHODS}")
  for field in ("diffaugment_policy", "ada_pipeline"):
    require(isinstance(augment[field], str), f"augment.{field}", augment[field],
            "it must be a comma-separated string")
  # Both, whatever the method: a wrong value should not wait for the run that uses it.
  for method, field, choices in (
      ("diffaugment", "diffaugment_policy", f"{DIFFAUGMENT_POLICIES}"),
      ("ada", "ada_pipeline", f"the groups {tuple(ADA_GROUPS)} and {ADA_OPERATIONS}")):
    try:
      parse_operations(method, augment.diffaugment_policy, augment.ada_pipeline)
    except ValueError:
      require(False, f"augment.{field}", augment[field],
              f"give a comma-separated selection of {choices}")
  p = augment.ada_p
  require(is_number(p) and 0 <= p <= 1, "augment.ada_p", p,
          "it must be a probability in [0, 1] (ADA's initial p)")
  target = augment.ada_target
  require(is_number(target) and -1 < target < 1, "augment.ada_target", target,
          "it must be in (-1, 1), the range of E[sign(D(x))] (ADA: 0.6)")
  require(is_int(augment.ada_interval) and augment.ada_interval >= 0, "augment.ada_interval",
          augment.ada_interval, "it must be an integer >= 0 (steps between adjustments of p; 0 "
          "keeps p at config.augment.ada_p)")
  require(is_number(augment.ada_kimg) and augment.ada_kimg > 0, "augment.ada_kimg",
          augment.ada_kimg, "it must be a positive number (thousands of real images for p to "
          "move by 1; ADA: 500)")
  if augment.method != "none":
    require(not points, "augment.method", augment.method,
            "augmentation transforms images and this run's data are 2-D points; use 'none'")
