"""Did the augmentation leak? The orientations of a run's digits against real ones (ADA's check).

    PYTHONPATH=. python scripts/augmentation_leak.py --workdir=runs/mnist2500/ada --num=5000

For a run on a dataset with a shipped classifier (MNIST, Fashion-MNIST): --num samples of its
generator (seed --seed) and --num real images of its training split, each given the orientation
among the 8 flips and quarter-turns that the dataset's classifier reads best
(`gan_jax.evaluation.orientation`). Prints one JSON line: the share of each orientation for
both, "turned" = all but identity, the generated minus the real share of turned digits, and
ADA's p at the checkpoint (when the run keeps one). A generator that learned flipped or rotated
digits from the augmentation has a larger turned share than the real digits.
"""

import argparse
import json

from gan_jax import sampling
from gan_jax.data import sources
from gan_jax.data.settings import DataSettings
from gan_jax.errors import UserError, fail
from gan_jax.evaluation import orientation


def leak(workdir, num, seed=0, step=None, seed_index=None):
  generator = sampling.load_generator(workdir, step, seed_index=seed_index)
  config = generator.config
  dataset = config.data.name
  generated = sampling.sample(generator, num, seed)
  real, _ = sources.load_split(DataSettings.from_config(config.data), config.data.split, num,
                               seed)
  shares = {"generated": orientation.orientation_shares(dataset, generated),
            "real": orientation.orientation_shares(dataset, real.images)}
  state, _, _ = sampling.restore_state(workdir, step, seed_index=seed_index)
  ada = getattr(state, "ada", None)
  return {"workdir": workdir, "step": generator.step, "num": num, **shares,
          "turned_excess": shares["generated"]["turned"] - shares["real"]["turned"],
          "ada_p": None if ada is None else float(ada.p)}


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--num", type=int, default=5000)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--step", type=int, default=None)
  parser.add_argument("--seed_index", type=int, default=None,
                      help="Which of a num_seeds run's GANs (default 0).")
  args = parser.parse_args(argv)
  try:
    print(json.dumps(leak(args.workdir, args.num, args.seed, args.step, args.seed_index)))
  except UserError as e:
    fail(e)


if __name__ == "__main__":
  main()
