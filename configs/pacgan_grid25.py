"""PacGAN's 2-D grid experiment (Lin et al. 2018, Table 1) as its authors' code runs it.

    python main.py --config=configs/pacgan_grid25.py --workdir=runs/pacgan_grid25_gan
    python main.py --config=configs/pacgan_grid25.py --workdir=runs/pacgan_grid25_pac4 --config.pack=4

Everything as `configs/pacgan_ring8.py` (the same code, pacgan_task.py, in
synthetic_data_experiments/2DGrid_GAN&PacGAN/), on the grid of its config.py lines 5-7: 25
Gaussians of std 0.05 at {-4, -2, 0, 2, 4}^2. Published (mean ± standard error of 10 trials):
GAN 17.3 ± 0.8 modes, 94.8 ± 0.7% high quality, reverse KL 0.70 ± 0.07; PacGAN2 23.8 ± 0.7,
91.3 ± 0.8%, 0.13 ± 0.04; PacGAN3 24.6 ± 0.4, 94.2 ± 0.4%, 0.06 ± 0.02; PacGAN4 24.8 ± 0.2, 93.6
± 0.6%, 0.04 ± 0.01. Ours: docs/results.md ("PacGAN Table 1").
"""

from configs import pacgan_ring8


def get_config():
  """PacGAN's grid of 25: GAN at pack=1, PacGANm at pack=m."""
  config = pacgan_ring8.get_config()
  config.data.toy2d.layout = "grid"
  config.data.toy2d.num_modes = 25
  # Outermost coordinate: centres at -4, -2, 0, 2, 4 on each axis.
  config.data.toy2d.radius = 4.0
  config.data.toy2d.std = 0.05
  return config
