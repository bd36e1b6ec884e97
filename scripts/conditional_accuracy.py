"""How well a class-conditional run obeys its labels, judged by the shipped classifier.

    PYTHONPATH=. python scripts/conditional_accuracy.py --workdir=runs/cond --num=1000

For each class k: `--num` samples generated with label k (the same latents for every k), the
fraction the classifier (mnist, fashion_mnist) puts in class k, and the class it most often
confuses k with. Prints a markdown table and the mean accuracy; with --json, writes them too.
"""

import argparse
import json

import numpy as np

from gan_jax import sampling


def accuracies(workdir, num, seed=0, step=None):
  """{"step", "ema", "classes": [{"class", "accuracy", "confused_with", "confused_share"}]}."""
  generator = sampling.load_generator(workdir, step)
  dataset = generator.config.data.name
  names = sampling.class_names(dataset)
  if not generator.num_classes or names is None:
    raise SystemExit(f"{workdir}: needs a class-conditional run on mnist or fashion_mnist.")
  rows = []
  for k in range(generator.num_classes):
    predicted, _ = sampling.classify_samples(generator, dataset, num, seed, label=k)
    counts = np.bincount(predicted, minlength=len(names))
    others = counts.copy()
    others[k] = -1
    rows.append({"class": names[k], "accuracy": counts[k] / num,
                 "confused_with": names[int(others.argmax())],
                 "confused_share": others.max() / num})
  return {"step": generator.step, "ema": generator.uses_ema, "classes": rows}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--num", type=int, default=1000, help="samples per class")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--step", type=int, default=None)
  parser.add_argument("--json", default=None, help="also write the result here")
  args = parser.parse_args()
  result = accuracies(args.workdir, args.num, args.seed, args.step)
  print(f"step {result['step']} ({'EMA' if result['ema'] else 'live'} weights), "
        f"{args.num} samples per label")
  print("| label | classified as the label | most often confused with |")
  print("|---|---|---|")
  for row in result["classes"]:
    print(f"| {row['class']} | {row['accuracy']:.1%} | {row['confused_with']} "
          f"({row['confused_share']:.1%}) |")
  mean = np.mean([row["accuracy"] for row in result["classes"]])
  print(f"mean: {mean:.1%}")
  if args.json:
    with open(args.json, "w") as f:
      json.dump({**result, "mean_accuracy": mean}, f, indent=2)


if __name__ == "__main__":
  main()
