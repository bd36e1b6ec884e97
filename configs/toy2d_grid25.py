"""The 5x5 grid of Gaussians, the second 2-D mode-collapse benchmark of VEEGAN and PacGAN.

    python main.py --config=configs/toy2d_grid25.py --workdir=runs/toy2d_grid25
    python main.py --config=configs/toy2d_grid25.py --workdir=runs/toy2d_grid25_pac4 --config.pack=4

Data as in PacGAN's code: 25 Gaussians of std 0.05 at {-4, -2, 0, 2, 4}^2; networks, optimizer
and evaluation as `configs/toy2d_ring8.py`. Published: GAN 3.3 modes (VEEGAN, Table 1), PacGAN4
24.8 modes and 94.2% high quality (PacGAN, Table 1). Our runs: docs/results.md.
"""

from configs import toy2d_ring8


def get_config():
  """Vanilla GAN on the grid of 25; pack=4 makes it PacGAN4."""
  config = toy2d_ring8.get_config()
  config.data.toy2d.layout = "grid"
  config.data.toy2d.num_modes = 25
  # Outermost coordinate: centres at -4, -2, 0, 2, 4 on each axis.
  config.data.toy2d.radius = 4.0
  config.data.toy2d.std = 0.05
  return config
