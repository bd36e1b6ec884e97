"""2-D Gaussian mixtures of the mode-collapse benchmarks (ring of 8, grid of 25) and their metrics.

References: Metz et al. 2017, "Unrolled Generative Adversarial Networks" (the ring);
Srivastava et al. 2017, "VEEGAN" (ring and grid, Table 1); Lin et al. 2018, "PacGAN"
(Table 1; its code fixes the layouts used here: ring of radius 1 with std 0.01, grid
{-4, -2, 0, 2, 4}^2 with std 0.05, 2,500 samples evaluated).

A sample is high quality when it lies within 3 standard deviations of its nearest centre; a
mode is captured when at least one high-quality sample has it as nearest centre; the reverse KL
is KL(modes of the high-quality samples || uniform), log K minus the entropy of their mode
histogram (PacGAN's `MetricLogger`, synthetic_data_experiments/PacGAN/pacgan/extensions.py
lines 155-175: it counts high-quality samples per nearest mode and logs that entropy).
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.data import catalog, settings
from gan_jax.evaluation import modes

HIGH_QUALITY_STDS = 3.0


@dataclasses.dataclass(frozen=True)
class Mixture:
  """An equal-weight mixture of isotropic 2-D Gaussians."""

  name: str
  centres: np.ndarray  # [num_modes, 2]
  std: float

  @property
  def num_modes(self):
    return len(self.centres)

  def sample(self, rng, num_samples):
    """`num_samples` points [num_samples, 2] (float32) from the mixture."""
    mode_rng, noise_rng = jax.random.split(rng)
    modes = jax.random.randint(mode_rng, (num_samples,), 0, self.num_modes)
    noise = jax.random.normal(noise_rng, (num_samples, 2)) * self.std
    return jnp.asarray(self.centres, jnp.float32)[modes] + noise


def from_toy2d(toy2d, name=None):
  """The `Mixture` of a `Toy2DSettings` (the layouts' geometry is `Toy2DSettings.resolved`)."""
  centres, std = toy2d.resolved()
  return Mixture(name or f"toy2d {len(centres)} modes", np.asarray(centres, np.float64), std)


def from_data_config(data_config):
  """The mixture a run trains on (`config.data.toy2d`), so its samples are judged against it."""
  return from_toy2d(settings.DataSettings.from_config(data_config).toy2d)


def of_catalog(entry):
  """The fixed mixture of a catalog entry (the tables' ring and grid), or None."""
  if entry.mixture is None:
    return None
  layout, num_modes, radius, std = entry.mixture
  return from_toy2d(settings.Toy2DSettings(layout=layout, num_modes=num_modes, radius=radius,
                                           std=std), name=f"{layout}{num_modes}")


# The fixed benchmark mixtures by dataset name ("toy2d_ring8", "toy2d_grid25").
MIXTURES = {entry.name: of_catalog(entry) for entry in catalog.DATASETS.values()
            if entry.mixture is not None}


def mode_statistics(samples, mixture):
  """Modes captured and high-quality fraction of 2-D samples [N, 2].

  Returns:
    {"modes_captured": int, "high_quality_fraction": float in [0, 1], "reverse_kl": nats,
     "mode_counts": high-quality samples per mode, a list}.
  """
  samples = np.asarray(samples, np.float64)
  distances = np.linalg.norm(samples[:, None, :] - mixture.centres[None], axis=-1)
  nearest = np.argmin(distances, axis=1)
  high_quality = distances[np.arange(len(samples)), nearest] <= HIGH_QUALITY_STDS * mixture.std
  counts = np.bincount(nearest[high_quality], minlength=mixture.num_modes)
  return {
      "modes_captured": int(np.sum(counts > 0)),
      "high_quality_fraction": float(np.mean(high_quality)),
      # Undefined (NaN) when no sample is of high quality.
      "reverse_kl": (modes.kl_divergence(counts, np.ones(mixture.num_modes)) if counts.sum()
                     else float("nan")),
      "mode_counts": counts.tolist(),
  }
