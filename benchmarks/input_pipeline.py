"""Images/s of `gan_jax.input_pipeline` on this machine's CPU, per resolution and path.

    nice -n 10 .venv/bin/python benchmarks/input_pipeline.py --seconds=4

Rows (host side only: numpy batches out of `TrainInput.batches`, as the loop receives them before
`data_parallel.prefetch_to_device` copies them to the accelerator):
  * 28x28x1, in memory: the real Fashion-MNIST training set (IDX files or TFDS, as the loop finds
    it), scaled to [0, 1]; once plain, once with a random horizontal flip.
  * 64x64x3 and 300x300x3, in memory: 2,520 synthetic RGB images of 300x300 (the size and count of
    Rock-Paper-Scissors' training split; smooth gradients plus noise, since only the shapes matter
    here), resized once at load time to 64 (area) or kept native; scaled to [-1, 1] with a flip.
    One more row does the random crop (270 of 300) and the area resize to 64 on every batch.
  * 300x300x3 and 64x64x3, streamed: 300 of those images PNG-encoded in a TFDS dataset prepared
    in a temporary folder and read back with `in_memory=False`: file reading, shuffle buffer,
    PNG decoding and resize per example, as for a dataset too large for memory (Food-101).

Each row builds its `TrainInput`, times the first batch (pipeline start-up), then counts images
over --seconds of wall time after --warmup_batches batches. The load average at start and end is
printed: on a shared machine the absolute numbers move with it.
"""

import argparse
import json
import os
import shutil
import tempfile
import time

import numpy as np

from gan_jax import input_pipeline
from gan_jax.data.arrays import ArrayDataset
from gan_jax.data.settings import DataSettings

NUM_SYNTHETIC = 2520  # Rock-Paper-Scissors' training split
NUM_STREAMED = 300


def parse_args():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch_size", type=int, default=64, help="Images per batch.")
  parser.add_argument("--seconds", type=float, default=4.0, help="Timed seconds per row.")
  parser.add_argument("--warmup_batches", type=int, default=5,
                      help="Untimed batches after the first, before timing.")
  parser.add_argument("--rows", default="",
                      help="Comma-separated substrings; run only rows whose name contains one.")
  return parser.parse_args()


def synthetic_rgb(num, size=300, seed=0):
  """uint8 [num, size, size, 3]: a per-image colour gradient plus mild noise."""
  rng = np.random.default_rng(seed)
  ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
  images = np.empty((num, size, size, 3), np.uint8)
  for i in range(num):
    low, high = rng.uniform(0, 255, size=(2, 3)).astype(np.float32)
    image = low + (high - low) * ramp[None, :, None] * ramp[:, None, None]
    image += rng.normal(0, 8, size=(size, size, 1)).astype(np.float32)
    images[i] = np.clip(image, 0, 255).astype(np.uint8)
  return images


def prepare_streamed_dataset(data_dir, images):
  """A TFDS dataset of PNG-encoded `images`, prepared in `data_dir`; returns its name."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  class GanJaxBenchmarkImages(tfds.core.GeneratorBasedBuilder):
    """Synthetic 300x300x3 PNG images with a 3-class label."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
      return tfds.core.DatasetInfo(
          builder=self, features=tfds.features.FeaturesDict({
              "image": tfds.features.Image(shape=(300, 300, 3)),
              "label": tfds.features.ClassLabel(num_classes=3)}))

    def _split_generators(self, dl_manager):
      del dl_manager
      return {"train": self._generate_examples()}

    def _generate_examples(self):
      for i, image in enumerate(images):
        yield i, {"image": image, "label": i % 3}

  GanJaxBenchmarkImages(data_dir=data_dir).download_and_prepare()
  return "gan_jax_benchmark_images"


def measure(train_input, seconds, warmup_batches):
  """(first batch s, images/s, image shape) of `train_input.batches()`."""
  start = time.perf_counter()
  iterator = train_input.batches()
  batch = next(iterator)
  first = time.perf_counter() - start
  for _ in range(warmup_batches):
    next(iterator)
  count, start = 0, time.perf_counter()
  while time.perf_counter() - start < seconds:
    count += len(next(iterator)["label"])
  return first, count / (time.perf_counter() - start), batch["image"].shape[1:]


ROWS = (
    # (name, data, source, DataSettings fields)
    ("28x28x1 Fashion-MNIST, in memory", "real", "dataset", {}),
    ("28x28x1 Fashion-MNIST, in memory, flip", "real", "dataset", {"random_flip": True}),
    ("64x64x3 (300 resized at load), in memory, flip", "synthetic", "arrays",
     {"image_size": 64}),
    ("64x64x3 (random crop 270 of 300 + resize per batch), in memory, flip", "synthetic",
     "arrays", {"image_size": 64, "crop": "random", "crop_size": 270}),
    ("300x300x3 native, in memory, flip", "synthetic", "arrays", {}),
    ("300x300x3 PNG, streamed from TFDS, flip", "synthetic PNG", "streamed", {}),
    ("64x64x3 (300 PNG resized per example), streamed from TFDS, flip", "synthetic PNG",
     "streamed", {"image_size": 64}),
)


def main():
  args = parse_args()
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  wanted = [w for w in args.rows.split(",") if w]
  rows = [r for r in ROWS if not wanted or any(w in r[0] for w in wanted)]
  batch = args.batch_size
  rgb = {"value_range": (-1.0, 1.0), "random_flip": True}
  load_start = [round(x, 2) for x in os.getloadavg()]
  tmp = tempfile.mkdtemp(prefix="gan_jax_input_bench_")
  results = []
  try:
    # Test data is made before any timing starts.
    kinds = {r[2] for r in rows}
    if kinds & {"arrays", "streamed"}:
      synthetic = ArrayDataset(images=synthetic_rgb(NUM_SYNTHETIC),
                               labels=np.zeros(NUM_SYNTHETIC, np.int32),
                               source="synthetic 300x300x3", num_classes=None)
    if "streamed" in kinds:
      streamed_name = prepare_streamed_dataset(tmp, synthetic.images[:NUM_STREAMED])

    for name, data, kind, fields in rows:
      start = time.perf_counter()
      if kind == "dataset":
        train_input = input_pipeline.create_train_input(
            DataSettings(name="fashion_mnist", **fields), batch, seed=0, process_index=0,
            process_count=1)
      elif kind == "arrays":
        train_input = input_pipeline.create_array_input(
            synthetic, DataSettings(**fields, **rgb), batch, seed=0)
      else:
        train_input = input_pipeline.create_train_input(
            DataSettings(name=streamed_name, data_dir=tmp, in_memory=False,
                         shuffle_buffer=1000, **fields, **rgb),
            batch, seed=0, process_index=0, process_count=1)
      open_s = time.perf_counter() - start
      first, rate, shape = measure(train_input, args.seconds, args.warmup_batches)
      results.append({"benchmark": "input_pipeline", "row": name, "data": data,
                      "batch_size": batch, "image_shape": list(shape),
                      "images_per_s": round(rate), "open_s": round(open_s, 2),
                      "first_batch_s": round(first, 2)})
      print(f"{name}: {rate:,.0f} images/s", flush=True)
  finally:
    shutil.rmtree(tmp, ignore_errors=True)
  load_end = [round(x, 2) for x in os.getloadavg()]

  print(f"\nbatch {batch}, {args.seconds:g} s per row, {os.cpu_count()} CPU cores, load average "
        f"(1/5/15 min) {load_start} at start, {load_end} at end.\n")
  print("| input | data | images/s | open s | first batch s |")
  print("|---|---|---|---|---|")
  for r in results:
    print(f"| {r['row']} | {r['data']} | {r['images_per_s']:,} | {r['open_s']} | "
          f"{r['first_batch_s']} |")
  print()
  for r in results:
    print(json.dumps({**r, "loadavg_start": load_start, "loadavg_end": load_end}))


if __name__ == "__main__":
  main()
