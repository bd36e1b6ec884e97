"""Sample grids, PNG and GIF writing."""

import numpy as np
from PIL import Image

from gan_jax import images


def test_to_uint8_clips_and_scales():
  out = images.to_uint8(np.array([-0.5, 0.0, 0.5, 1.0, 2.0]))
  assert out.tolist() == [0, 0, 128, 255, 255]
  assert images.to_uint8(np.array([-1.0, 0.0, 1.0]), (-1.0, 1.0)).tolist() == [0, 128, 255]


def test_grid_layout():
  tiles = np.stack([np.full((3, 4, 1), i, np.uint8) for i in range(6)])
  grid = images.make_grid(tiles, num_rows=2, padding=1, pad_value=200)
  assert grid.shape == (2 * 4 + 1, 3 * 5 + 1, 1)
  assert grid[1, 1, 0] == 0 and grid[1, 6, 0] == 1 and grid[5, 11, 0] == 5
  assert grid[0, 0, 0] == 200


def test_png_and_gif_round_trip(tmp_path):
  frames = []
  for i in range(3):
    path = tmp_path / f"f{i}.png"
    images.save_png(np.full((8, 8, 1), 60 * i, np.uint8), path)
    frames.append(str(path))
  assert np.asarray(Image.open(frames[2])).tolist() == [[120] * 8] * 8
  gif = images.save_gif(frames, tmp_path / "t.gif")
  with Image.open(gif) as g:
    assert g.n_frames == 3
