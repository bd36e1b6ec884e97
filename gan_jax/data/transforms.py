"""Image transformations (TensorFlow ops) in two stages.

* `prepare` is deterministic (channels, center crop, resize): sources that hold a split in memory
  apply it once, at load time, and keep uint8 results.
* `finish` is random and runs on every batch (random crop then resize, horizontal flip), followed
  by the scaling to the generator's output range. Its random numbers are passed in, drawn from
  stateless seeds by the caller, so a batch is a function of (seed, position) and a resumed run
  sees the same pixels as an uninterrupted one.

Resized images are rounded back to uint8, as a PNG of the resized image would be: the in-memory and
the streaming path then give identical pixels for the same example.
"""

import tensorflow as tf

# ITU-R BT.601 luma weights of R, G, B, as in tf.image.rgb_to_grayscale.
LUMA_WEIGHTS = (0.2989, 0.5870, 0.1140)
# Uniform random numbers `finish` needs per image: crop top, crop left, flip.
NUM_RANDOM = 3


def convert_channels(image, channels):
  """Grayscale <-> RGB (and RGBA -> RGB) on uint8 images [..., C] with a static C."""
  have = image.shape[-1]
  if channels is None or have is None or have == channels:
    return image
  if have == 4:
    image = image[..., :3]
    have = 3
  if have == channels:
    return image
  if channels == 3:
    return tf.image.grayscale_to_rgb(image)
  # ITU-R 601 luma, rounded to the nearest integer (tf.image.rgb_to_grayscale truncates).
  luma = tf.tensordot(tf.cast(image, tf.float32), LUMA_WEIGHTS, axes=[[-1], [0]])
  return tf.cast(tf.clip_by_value(tf.round(luma), 0.0, 255.0), tf.uint8)[..., None]


def _square_side(height, width, size):
  shorter = tf.minimum(height, width)
  return shorter if size is None else tf.minimum(shorter, size)


def center_crop(image, size=None):
  """The central square of side `size` (default and at most the shorter side) of [..., H, W, C]."""
  height, width = tf.shape(image)[-3], tf.shape(image)[-2]
  side = _square_side(height, width, size)
  top, left = (height - side) // 2, (width - side) // 2
  return image[..., top:top + side, left:left + side, :]


def random_crop(images, size, uniform):
  """A square of side `size` (default the shorter side) at a random place in each image.

  Args:
    images: uint8 [B, H, W, C].
    size: side of the square, or None for the shorter side.
    uniform: float32 [B, 2] in [0, 1): where the crop starts, as a fraction of the free room.
  """
  height, width = tf.shape(images)[1], tf.shape(images)[2]
  side = _square_side(height, width, size)
  top = tf.cast(uniform[:, 0] * tf.cast(height - side + 1, tf.float32), tf.int32)
  left = tf.cast(uniform[:, 1] * tf.cast(width - side + 1, tf.float32), tf.int32)
  # One slice per image: ~3x faster on CPU than gathering rows and columns with batch_dims.
  return tf.map_fn(
      lambda args: tf.slice(args[0], tf.stack([args[1], args[2], 0]), tf.stack([side, side, -1])),
      (images, top, left), fn_output_signature=tf.TensorSpec(
          [None, None, images.shape[-1]], images.dtype), parallel_iterations=16)


def resize(images, size, method):
  """Resizes [..., H, W, C] uint8 images to size x size, rounding back to uint8.

  Bilinear and bicubic use an anti-aliasing filter when shrinking (without it, 300 -> 64 would
  sample every ~5th pixel); "area" averages the covered pixels by construction.
  """
  resized = tf.image.resize(images, (size, size), method=method,
                            antialias=method in ("bilinear", "bicubic"))
  resized = tf.cast(resized, tf.float32)  # "nearest" keeps uint8; the others give float32.
  return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)


def prepare(image, settings):
  """The deterministic stage: channels, then a center crop and the resize unless crop is random."""
  image = convert_channels(image, settings.channels)
  if settings.crop == "center":
    image = center_crop(image, settings.crop_size)
  if settings.crop != "random" and settings.image_size:
    image = resize(image, settings.image_size, settings.resize_method)
  return image


def scale(images, value_range):
  """uint8 [0, 255] -> float32 [low, high]."""
  low, high = value_range
  return tf.cast(images, tf.float32) * ((high - low) / 255.0) + low


def has_random_stage(settings):
  return settings.crop == "random" or settings.random_flip


def finish(images, settings, uniform):
  """The random stage and the scaling, on a batch of prepared uint8 images [B, H, W, C].

  Args:
    images: uint8 [B, H, W, C] from `prepare`.
    settings: `DataSettings`.
    uniform: float32 [B, NUM_RANDOM] in [0, 1) (unused columns are ignored); may be None when
      `has_random_stage(settings)` is False.

  Returns:
    float32 [B, H', W', C] in `settings.value_range`.
  """
  if settings.crop == "random":
    images = random_crop(images, settings.crop_size, uniform[:, :2])
    if settings.image_size:
      images = resize(images, settings.image_size, settings.resize_method)
  if settings.random_flip:
    images = flip_where(images, uniform[:, 2] < 0.5)
  return scale(images, settings.value_range)


def flip_where(images, flip):
  """Mirrors images [B, H, W, C] left-right where `flip` [B] is True.

  Only the chosen images are reversed and the batch is stitched back in order: a broadcast
  `tf.where` over uint8 pixels was ~5x slower than this on CPU (benchmarks/input_pipeline.py).
  """
  positions = tf.range(tf.shape(images)[0])
  flipped, kept = positions[flip], positions[~flip]
  return tf.dynamic_stitch(
      [flipped, kept], [tf.reverse(tf.gather(images, flipped), axis=[2]), tf.gather(images, kept)])


def output_shape(native_shape, settings):
  """(H, W, C) after `prepare` and `finish` for images of `native_shape`, None where unknown."""
  height, width, channels = native_shape
  if settings.channels is not None:
    channels = settings.channels
  if settings.image_size:
    return (settings.image_size, settings.image_size, channels)
  if settings.crop == "none" or height is None or width is None:
    return (height, width, channels) if settings.crop == "none" else (None, None, channels)
  side = min(height, width) if settings.crop_size is None else min(height, width,
                                                                   settings.crop_size)
  return (side, side, channels)


def prepared_shape(native_shape, settings):
  """(H, W, C) after `prepare` only (the shape an in-memory source stores), None where unknown."""
  if settings.crop == "random":
    height, width, channels = native_shape
    return (height, width, settings.channels if settings.channels is not None else channels)
  return output_shape(native_shape, settings)
