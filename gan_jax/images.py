"""Sample grids, PNG files and GIFs (PIL and imageio): the training-progress GIF, the numbered
grids, interpolations and arithmetic pictures of `python -m gan_jax.generate`."""

import os

import imageio.v2 as imageio
import numpy as np
from PIL import Image, ImageDraw, ImageFont


def to_uint8(images, value_range=(0.0, 1.0)):
  """Float images in `value_range` -> uint8 in [0, 255] (values outside are clipped)."""
  low, high = value_range
  scaled = (np.asarray(images, np.float32) - low) / (high - low)
  return np.round(np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)


def make_grid(images, num_rows=None, padding=2, pad_value=255):
  """Tiles uint8 images [N, H, W, C] into one [rows*(H+p)+p, cols*(W+p)+p, C] image."""
  images = np.asarray(images)
  n, h, w, c = images.shape
  num_rows = num_rows or int(np.ceil(np.sqrt(n)))
  num_cols = int(np.ceil(n / num_rows))
  grid = np.full((num_rows * (h + padding) + padding, num_cols * (w + padding) + padding, c),
                 pad_value, images.dtype)
  for i, image in enumerate(images):
    row, col = divmod(i, num_cols)
    top, left = padding + row * (h + padding), padding + col * (w + padding)
    grid[top:top + h, left:left + w] = image
  return grid


def save_png(image, path):
  """Writes an [H, W, 1|3] uint8 image as PNG."""
  image = np.asarray(image)
  Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(path)


def save_gif(frames, gif_path, seconds_per_frame=0.5):
  """Writes the frames, in order, as a looping GIF.

  Args:
    frames: PNG paths (the per-step grids of a run) or uint8 images [H, W, 1|3].
    gif_path: the GIF to write.
    seconds_per_frame: how long each frame shows.
  """
  frames = [imageio.imread(f) if isinstance(f, (str, os.PathLike)) else _squeeze_gray(f)
            for f in frames]
  imageio.mimsave(gif_path, frames, duration=seconds_per_frame, loop=0)
  return os.path.abspath(gif_path)


def _squeeze_gray(image):
  image = np.asarray(image)
  return image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image


def upscale(images, factor):
  """Nearest-neighbour enlargement by an integer factor of [..., H, W, C] images (28 pixels are
  small on a screen; nearest keeps the generator's actual pixels visible)."""
  if factor == 1:
    return np.asarray(images)
  return np.repeat(np.repeat(np.asarray(images), factor, axis=-3), factor, axis=-2)


def _to_rgb(image):
  return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def numbered_grid(images, num_rows=None, padding=2, label_color=(220, 30, 30)):
  """`make_grid` with each tile's index written in its top-left corner (RGB output), so a
  reader can name samples by index ("3,7,12")."""
  images = np.asarray(images)
  n, h, w, _ = images.shape
  grid = Image.fromarray(_to_rgb(make_grid(images, num_rows, padding)))
  num_rows = num_rows or int(np.ceil(np.sqrt(n)))
  num_cols = int(np.ceil(n / num_rows))
  draw = ImageDraw.Draw(grid)
  font = ImageFont.load_default(size=max(8, min(h, w) // 4))
  for i in range(n):
    row, col = divmod(i, num_cols)
    draw.text((padding + col * (w + padding) + 1, padding + row * (h + padding)), str(i),
              fill=label_color, font=font)
  return np.asarray(grid)


def labelled_rows(rows, labels, padding=2, pad_value=255, label_width=None):
  """Rows of tiles with a text label in front of each row (RGB output).

  Args:
    rows: list of rows; a row is a list of uint8 images [H, W, C] (all the same shape) or None
      for an empty cell. Rows may have different lengths.
    labels: one string per row ("+", "-", "=", a class name, ...).
    padding: pixels between tiles.
    pad_value: background grey level.
    label_width: pixels of the label column (default: one tile width).

  Returns:
    uint8 [H', W', 3].
  """
  tile = next(t for row in rows for t in row if t is not None)
  h, w = tile.shape[:2]
  label_width = label_width or w
  num_cols = max(len(row) for row in rows)
  height = len(rows) * (h + padding) + padding
  width = label_width + num_cols * (w + padding) + padding
  canvas = np.full((height, width, 3), pad_value, np.uint8)
  for r, row in enumerate(rows):
    top = padding + r * (h + padding)
    for c, image in enumerate(row):
      if image is not None:
        left = label_width + padding + c * (w + padding)
        canvas[top:top + h, left:left + w] = _to_rgb(np.asarray(image))
  picture = Image.fromarray(canvas)
  draw = ImageDraw.Draw(picture)
  font = ImageFont.load_default(size=max(10, h // 2))
  for r, label in enumerate(labels):
    centre = (label_width / 2, padding + r * (h + padding) + h / 2)
    draw.text(centre, label, fill=(0, 0, 0), font=font, anchor="mm")
  return np.asarray(picture)
