"""Sample grids, PNG files and the training-progress GIF (PIL and imageio)."""

import os

import imageio.v2 as imageio
import numpy as np
from PIL import Image


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


def save_gif(png_paths, gif_path, seconds_per_frame=0.5):
  """Writes the PNG frames, in order, as a looping GIF (the per-step grids of a run)."""
  frames = [imageio.imread(p) for p in png_paths]
  imageio.mimsave(gif_path, frames, duration=seconds_per_frame, loop=0)
  return os.path.abspath(gif_path)
