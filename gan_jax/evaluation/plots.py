"""Pictures of the metrics for TensorBoard and files: class histograms and 2-D sample scatters.

Each returns an RGB uint8 array [H, W, 3] (what `clu` writers and `gan_jax.images.save_png`
take). matplotlib is imported here only, and draws on an Agg canvas without pyplot, so nothing
global (the backend, open figures) changes for the caller.
"""

import numpy as np


def _figure(width, height):
  from matplotlib.figure import Figure  # pylint: disable=g-import-not-at-top
  from matplotlib.backends.backend_agg import FigureCanvasAgg  # pylint: disable=g-import-not-at-top
  figure = Figure(figsize=(width, height), dpi=100)
  FigureCanvasAgg(figure)
  return figure


def _to_array(figure):
  figure.tight_layout()
  figure.canvas.draw()
  return np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()


def class_histogram_image(counts, reference_counts=None, class_names=None, title=""):
  """Bars of the sample fraction per class, with the reference fractions as markers."""
  counts = np.asarray(counts, np.float64)
  num_classes = len(counts)
  figure = _figure(max(4.0, 0.45 * num_classes + 1.5) if num_classes <= 50 else 10.0, 3.2)
  axes = figure.add_subplot(1, 1, 1)
  positions = np.arange(num_classes)
  axes.bar(positions, counts / max(counts.sum(), 1.0), color="tab:blue", label="samples",
           width=0.8 if num_classes <= 50 else 1.0)
  if reference_counts is not None:
    reference = np.asarray(reference_counts, np.float64)
    axes.plot(positions, reference / reference.sum(), "_", color="black", markersize=14,
              markeredgewidth=2, label="real")
  axes.axhline(0.01, color="tab:red", lw=0.8, ls="--", label="1%")
  if class_names is not None and num_classes <= 50:
    axes.set_xticks(positions, class_names, rotation=45, ha="right", fontsize=8)
  axes.set_ylabel("fraction of samples")
  axes.set_title(title, fontsize=9)
  axes.legend(fontsize=7, loc="upper right")
  return _to_array(figure)


def mixture_scatter_image(samples, mixture, title=""):
  """Samples (black dots) over the mixture's centres and 3-std circles (red)."""
  samples = np.asarray(samples)
  figure = _figure(4.2, 4.2)
  axes = figure.add_subplot(1, 1, 1)
  axes.scatter(samples[:, 0], samples[:, 1], s=2, c="black", alpha=0.3, label="samples")
  axes.scatter(mixture.centres[:, 0], mixture.centres[:, 1], s=12, c="tab:red", marker="x",
               label="centres")
  for centre in mixture.centres:
    axes.add_patch(_circle(centre, 3.0 * mixture.std))
  extent = np.abs(mixture.centres).max() * 1.5 + 3.0 * mixture.std
  axes.set_xlim(-extent, extent)
  axes.set_ylim(-extent, extent)
  axes.set_aspect("equal")
  axes.set_title(title, fontsize=9)
  axes.legend(fontsize=7, loc="upper right")
  return _to_array(figure)


def _circle(centre, radius):
  from matplotlib.patches import Circle  # pylint: disable=g-import-not-at-top
  return Circle(centre, radius, fill=False, color="tab:red", lw=0.8)
