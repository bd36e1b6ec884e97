"""Any TFDS image dataset by name: open and check a split, read it into memory, or stream it.

Runs never download (`download=False` semantics: a split that is not prepared in
`config.data.data_dir` or TFDS' default folder is an error saying how to prepare it). Images are
read undecoded (`tfds.decode.SkipDecoding`) and decoded by the caller's map, so skipping examples
to resume a run costs reading records, not decoding JPEGs.
"""

import dataclasses
import difflib
import logging
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from gan_jax.data import arrays as arrays_lib
from gan_jax.data import transforms
from gan_jax.errors import UserError


class NotPreparedError(UserError):
  """The dataset exists in TFDS' registry but has no prepared copy where we looked."""


def base_name(name):
  """'celeb_a:2.1.0' or 'imagenet_resized/32x32' -> the registry name."""
  return name.split("/")[0].split(":")[0]


def is_registered(name):
  return base_name(name) in tfds.list_builders(with_community_datasets=False)


def close_names(name, num=4):
  # The registry can list a name twice (e.g. once per loaded module): deduplicate first.
  registered = list(dict.fromkeys(tfds.list_builders(with_community_datasets=False)))
  return difflib.get_close_matches(base_name(name), registered, n=num)


@dataclasses.dataclass(frozen=True)
class TfdsSplit:
  """An opened, checked split: the builder plus what the pipeline needs to know about it."""

  builder: tfds.core.DatasetBuilder
  name: str
  split: str
  image_key: str
  label_key: Optional[str]  # None: the dataset has no such label feature; labels are 0.
  num_examples: int
  native_shape: Tuple[Optional[int], Optional[int], Optional[int]]
  num_classes: Optional[int]
  data_dir: Optional[str]

  @property
  def source(self):
    return f"TFDS {self.name}/{self.split}"

  def as_dataset(self, split=None, **kwargs):
    """The split (or a sub-split, e.g. this process's share) with images left encoded."""
    return _as_dataset(self.builder, self.split if split is None else split, self.data_dir,
                       decoders={self.image_key: tfds.decode.SkipDecoding()}, **kwargs)

  def decode(self, example):
    """A raw example -> (uint8 image [H, W, C], int32 label)."""
    image = self.builder.info.features[self.image_key].decode_example(example[self.image_key])
    if self.label_key is None:
      label = tf.constant(0, tf.int32)
    else:
      label = tf.cast(example[self.label_key], tf.int32)
    return image, label


def _not_prepared_message(name, data_dir):
  where = data_dir or tfds.core.constants.DATA_DIR
  return (f"TFDS dataset {name!r} is not prepared in {where} (config.data.data_dir), and runs "
          "never download. Prepare it once on a machine with internet: python -c \"import "
          f"tensorflow_datasets as tfds; tfds.builder('{name}').download_and_prepare()\", copy "
          "the folder here and pass --config.data.data_dir=<that folder>; or use another "
          "config.data.source (docs/data.md).")


def _as_dataset(builder, split, data_dir, **kwargs):
  try:
    return builder.as_dataset(split=split, **kwargs)
  except AssertionError as e:
    if "could not find data" in str(e):
      raise NotPreparedError(_not_prepared_message(builder.name, data_dir)) from e
    raise
  except ValueError as e:
    if "split" not in str(e).lower():
      raise
    splits = sorted(builder.info.splits.keys())
    raise UserError(f"config.data.split={split!r} is not a split of {builder.name} "
                    f"({str(e).splitlines()[0]}); its splits: {splits}. Slices such as "
                    "'train[:90%]' work too.") from e


def open_split(name, split, data_dir, image_key="image", label_key="label"):
  """Opens `name`/`split` and checks it: registered, prepared, split exists, keys exist.

  Returns:
    A `TfdsSplit`.
  """
  try:
    builder = tfds.builder(name, data_dir=data_dir)
  except tfds.core.registered.DatasetNotFoundError as e:
    suggestions = close_names(name)
    raise UserError(f"config.data.name={name!r} is not a TFDS dataset"
                    + (f" (did you mean {', '.join(map(repr, suggestions))}?)" if suggestions
                       else "") + "; see tfds.list_builders() or docs/data.md.") from e
  features = builder.info.features
  image_features = [k for k, f in features.items() if isinstance(f, tfds.features.Image)]
  if image_key not in image_features:
    raise UserError(f"config.data.image_key={image_key!r} is not an image feature of {name} "
                    f"(its features: {sorted(features.keys())}; image features: "
                    f"{image_features or 'none'}).")
  num_classes = None
  if label_key is not None and label_key in features:
    label_feature = features[label_key]
    if not (label_feature.shape == () and np.issubdtype(np.dtype(label_feature.np_dtype),
                                                        np.integer)):
      raise UserError(f"config.data.label_key={label_key!r}: feature {label_key!r} of {name} is "
                      f"not an integer class label ({label_feature}); set another key or None.")
    num_classes = getattr(label_feature, "num_classes", None)
  elif label_key is not None:
    logging.info("%s has no feature %r (config.data.label_key): labels are 0.", name, label_key)
    label_key = None

  dataset = _as_dataset(builder, split, data_dir,
                        decoders={image_key: tfds.decode.SkipDecoding()})
  num_examples = int(dataset.cardinality())
  if num_examples < 0:  # TFDS asserts cardinality; only a split built by other means lacks it.
    num_examples = int(dataset.reduce(0, lambda count, _: count + 1))
  if num_examples == 0:
    raise UserError(f"TFDS {name}/{split} (config.data.split) has no examples.")
  return TfdsSplit(builder=builder, name=name, split=split, image_key=image_key,
                   label_key=label_key, num_examples=num_examples,
                   native_shape=tuple(features[image_key].shape), num_classes=num_classes,
                   data_dir=data_dir)


def load_arrays(tfds_split, settings=None):
  """Reads the whole split into memory, `transforms.prepare`d when settings are given."""

  def decode(example):
    image, label = tfds_split.decode(example)
    return (image if settings is None else transforms.prepare(image, settings)), label

  dataset = tfds_split.as_dataset(shuffle_files=False,
                                  read_config=tfds.ReadConfig(try_autocache=False))
  dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
  images, labels, _ = arrays_lib.stack_examples(
      dataset, tfds_split.num_examples,
      lambda i: f"example {i} of {tfds_split.source}",
      fix=("a random crop of images held in memory needs them to have one size: set "
           "config.data.in_memory=False to stream them, or use config.data.crop='center'"
           if settings is not None and settings.crop == "random" else
           "set config.data.image_size (and config.data.crop) to bring them to one size"))
  return arrays_lib.ArrayDataset(images=images, labels=labels, source=tfds_split.source,
                                 num_classes=tfds_split.num_classes)
