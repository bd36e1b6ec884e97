"""Trains a GAN: `python main.py --config=configs/default.py --workdir=runs/default`.

Any config field can be overridden on the command line, e.g. `--config.num_train_steps=300`.
"""

import logging as std_logging
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from gan_jax import train
from gan_jax.errors import UserError

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Folder for checkpoints, summaries and samples.")
config_flags.DEFINE_config_file("config", None, "Training configuration file.",
                                lock_config=True)
flags.mark_flags_as_required(["config", "workdir"])


class _QuietLibraries(std_logging.Filter):
  """Drops INFO chatter of Orbax and TFDS (every save logs ~30 lines); warnings still show."""

  def filter(self, record):
    noisy = ("/orbax/", "/tensorflow_datasets/", "/jax/_src/xla_bridge")
    return record.levelno >= std_logging.WARNING or not any(
        part in record.pathname for part in noisy)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  std_logging.getLogger("absl").addFilter(_QuietLibraries())
  try:
    train.train_and_evaluate(FLAGS.config, FLAGS.workdir)
  except UserError as e:
    logging.flush()
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  app.run(main)
