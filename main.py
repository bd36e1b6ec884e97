"""Trains a GAN: `python main.py --config=configs/default.py --workdir=runs/default`.

Any config field can be overridden on the command line, e.g. `--config.num_train_steps=300`.
Mistakes a user can make (a bad flag, a config value, missing data) end in one line starting with
`error:` and exit status 2.
"""

import logging as std_logging
import os

# Before TensorFlow is imported (by the loop's input and summary libraries): its C++ start-up
# chatter would bury the one line that matters.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # pylint: disable=g-import-not-at-top
from ml_collections import config_flags  # pylint: disable=g-import-not-at-top

from gan_jax import distributed, train  # pylint: disable=g-import-not-at-top
from gan_jax.errors import UserError, fail  # pylint: disable=g-import-not-at-top

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


def _config_path(argv):
  for arg in argv[1:]:
    if arg.startswith("--config="):
      return arg[len("--config="):]
  return None


def parse_flags(argv):
  """absl's flag parsing, with every parse error (bad value, unknown field, unloadable config
  file) as one `error:` line instead of a usage dump or a traceback."""
  usage = "Flags: --config=<file.py> --workdir=<folder> [--config.<field>=<value> ...]."
  try:
    remaining = FLAGS(argv)
    config = FLAGS.config
    if config is not None:
      config.keys()  # A config file that failed to load raises only on first use.
  except flags.Error as e:
    fail(f"{str(e).rstrip('.')}. {usage}")
  except (AttributeError, KeyError) as e:
    if "get_config" in str(e):
      fail(f"the config file {_config_path(argv)} defines no get_config(); see configs/ for "
            "examples.")
    # ml_collections raises these for an override of a field the config does not have.
    field = str(e).strip("\"'")
    fail(f"the config has no field {field!r}: check the spelling of the --config.<field> "
          f"overrides against {_config_path(argv)}.")
  except Exception as e:  # pylint: disable=broad-except
    # A config file that is missing, does not run, or has no get_config().
    path = _config_path(argv)
    if path is not None and not os.path.isfile(path):
      fail(f"--config={path}: no such file. Pass a config file, e.g. --config=configs/default.py.")
    detail = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
    fail(f"could not load the config {path} ({type(e).__name__}: {detail[:300]}); it must be a "
          "Python file defining get_config().")
  if config is None:
    fail(f"--config is required, e.g. --config=configs/default.py. {usage}")
  return remaining


def main(argv):
  if len(argv) > 1:
    fail(f"unexpected arguments {argv[1:]}; every option is a --flag.")
  std_logging.getLogger("absl").addFilter(_QuietLibraries())
  try:
    distributed.initialize(FLAGS.config)
    train.train_and_evaluate(FLAGS.config, FLAGS.workdir)
  except UserError as e:
    logging.flush()
    fail(e)


if __name__ == "__main__":
  app.run(main, flags_parser=parse_flags)
