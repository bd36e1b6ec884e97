"""Samples, interpolations and latent arithmetic from a trained run (`gan_jax.sampling`).

    python -m gan_jax.generate --workdir=runs/fashion --num=10000 --out=samples.npz
    python -m gan_jax.generate --workdir=runs/fashion --num=100 --out=samples/   # PNG files
    python -m gan_jax.generate grid --workdir=runs/fashion --out=grid.png        # numbered 8x8
    python -m gan_jax.generate interpolate --workdir=runs/fashion --out=walk.png \
        [--pairs=3-17,5-42 | --rows=8] [--steps=10] [--method=slerp|linear]      # + walk.gif
    python -m gan_jax.generate arithmetic --workdir=runs/fashion --out=sum.png \
        --expression="3,7,12 - 5,9 + 20"
    python -m gan_jax.generate arithmetic --workdir=runs/fashion --out=sum.png \
        --expression="class:sneaker - class:sandal + class:bag"
    python -m gan_jax.generate classes --workdir=runs/cond --out=classes.png --num=8
        # class-conditional runs: one row per class, the same latents in every row

Class-conditional runs (--config.conditional=True) take `--label=K` in every command: all samples
of class K. Without it, `sample` and `grid` give sample i class i % num_classes; `interpolate`
and `arithmetic` need it.

Every command uses the run's newest checkpoint (or --step), with its EMA weights when it has
them. Samples are named by index: sample i of --seed always has the same latent, so the indices
printed on `grid`'s picture are the ones `interpolate --pairs` and `arithmetic` take ("S:I" is
sample I of seed S). The .npz holds `images`, uint8 [N, H, W, C] in [0, 255]: what
`python -m gan_jax.evaluate --samples=` reads, and what the npz data source reads with
`--config.data.source=npz --config.data.path=samples.npz --config.data.image_key=images`.

Mistakes (no checkpoint, a bad expression, an unwritable --out) end in one `error:` line and
exit status 2.
"""

import os
import re
import sys

# Before TensorFlow is imported (only to open a dataset the catalog does not describe): its C++
# start-up chatter would bury the one line that matters.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # pylint: disable=g-import-not-at-top
from absl import app, flags, logging  # pylint: disable=g-import-not-at-top

from gan_jax import images as images_lib  # pylint: disable=g-import-not-at-top
from gan_jax import sampling, workdir as workdir_lib  # pylint: disable=g-import-not-at-top
from gan_jax.errors import UserError, fail  # pylint: disable=g-import-not-at-top
from gan_jax.latent_expressions import (  # pylint: disable=g-import-not-at-top
    class_index, parse_expression, parse_latent_refs, parse_pairs)

COMMANDS = ("sample", "grid", "interpolate", "arithmetic", "classes")
DEFAULT_NUM = {"sample": 10_000, "grid": 64, "classes": 8}


# Output paths.

def _check_writable(out, folder):
  workdir_lib.check_writable(out if folder else (os.path.dirname(os.path.abspath(out)) or "."),
                             f"--out={out!r}")


def _check_png_out(out):
  if not out or not out.lower().endswith(".png"):
    raise UserError(f"--out={out!r}: give a .png file for this command, e.g. --out=picture.png.")
  _check_writable(out, folder=False)


def _latents_of(refs, generator):
  for _, index in refs:
    if index < 0:
      raise UserError(f"Sample index {index} is invalid: indices are >= 0.")
  return np.concatenate([np.asarray(generator.latents(s, [i])) for s, i in refs])


def _describe(refs, seed):
  return ", ".join(str(i) if s == seed else f"{s}:{i}" for s, i in refs)


def _save_png(image, path):
  images_lib.save_png(image, path)
  return os.path.abspath(path)


# The commands.

def _labels(generator, num, label):
  """`label` for `num` latents of a conditional generator (which needs one); None otherwise."""
  if generator.num_classes and label is None:
    raise UserError(f"This run is class-conditional ({generator.num_classes} classes): give "
                    "--label=K for this command.")
  sampling.check_label(generator, label)
  return None if label is None else np.full(num, label, np.int32)


def run_sample(workdir, out, num=10_000, seed=0, batch_size=500, step=None, label=None,
               seed_index=None):
  """Writes `num` samples as an .npz (`images`, uint8) or as PNG files in a folder.

  Returns:
    {"out": absolute path, "num": num, "step": checkpoint step, "ema": whether EMA weights}.
  """
  if num < 1:
    raise UserError(f"--num={num} is invalid: it must be a positive integer.")
  if batch_size < 1:
    raise UserError(f"--batch_size={batch_size} is invalid: it must be a positive integer.")
  as_folder = out.endswith(("/", os.sep)) or os.path.isdir(out)
  if not as_folder and not out.lower().endswith(".npz"):
    raise UserError(f"--out={out!r}: give an .npz file (one `images` array) or a folder ending "
                    "with / (one PNG per sample).")
  _check_writable(out, folder=as_folder)
  generator = sampling.load_generator(workdir, step, seed_index=seed_index)
  images = sampling.sample(generator, num, seed=seed, batch_size=batch_size, label=label)
  if as_folder:
    for index, image in enumerate(images):
      images_lib.save_png(image, os.path.join(out, f"{index:06d}.png"))
  else:
    # Written under another name and moved: a reader never sees half a file.
    partial = out[:-len(".npz")] + ".partial.npz"
    np.savez_compressed(partial, images=images)
    os.replace(partial, out)
  return {"out": os.path.abspath(out), "num": num, "step": generator.step,
          "ema": generator.uses_ema}


def run_grid(workdir, out, num=64, seed=0, scale=2, step=None, label=None, seed_index=None):
  """Writes samples 0 .. num-1 of `seed` as a grid with each sample's index on it."""
  if num < 1:
    raise UserError(f"--num={num} is invalid: it must be a positive integer.")
  _check_png_out(out)
  generator = sampling.load_generator(workdir, step, seed_index=seed_index)
  images = images_lib.upscale(sampling.sample(generator, num, seed=seed, label=label), scale)
  return {"out": _save_png(images_lib.numbered_grid(images), out), "step": generator.step,
          "ema": generator.uses_ema}


def run_classes(workdir, out, num=8, seed=0, scale=2, step=None, seed_index=None):
  """A class-conditional run's grid: one row per class (labelled with its name where the dataset
  has a shipped classifier, else its index), samples 0 .. num-1 of `seed` in the columns (the
  same latents in every row)."""
  if num < 1:
    raise UserError(f"--num={num} is invalid: it must be a positive integer.")
  _check_png_out(out)
  generator = sampling.load_generator(workdir, step, seed_index=seed_index)
  if not generator.num_classes:
    raise UserError("classes: this run is not class-conditional (train with "
                    "--config.conditional=True); use the grid command.")
  names = sampling.class_names(generator.config.data.get("name")) if generator.config else None
  if names is None or len(names) != generator.num_classes:
    names = [str(k) for k in range(generator.num_classes)]
  rows = [list(images_lib.upscale(sampling.sample(generator, num, seed=seed, label=k), scale))
          for k in range(generator.num_classes)]
  # The label font is half a tile high (images.labelled_rows); a character is ~0.6 of that wide.
  font_size = max(10, rows[0][0].shape[0] // 2)
  label_width = int(max(len(name) for name in names) * 0.6 * font_size) + 8
  return {"out": _save_png(images_lib.labelled_rows(rows, names, label_width=label_width), out),
          "step": generator.step, "ema": generator.uses_ema}


def run_interpolate(workdir, out, pairs=None, rows=8, steps=10, method="slerp", seed=0, scale=2,
                    gif_frames=24, gif_seconds=0.08, step=None, label=None,
                    seed_index=None):
  """One row per pair of samples, `steps` images from the first to the second; and a GIF (same
  name, .gif) walking every row back and forth in `gif_frames` steps.

  Args:
    pairs: "3-17,5-42" (indices of the `seed` grid, or seed:index); None: `rows` pairs
      (0-1, 2-3, ...) of `seed`.

  Returns:
    {"out": the PNG, "gif": the GIF, "pairs": [((seed, i), (seed, j)), ...], "step", "ema"}.
  """
  if method not in sampling.INTERPOLATIONS:
    raise UserError(f"--method={method!r} is invalid: choose one of {sampling.INTERPOLATIONS}.")
  if steps < 2 or gif_frames < 2:
    raise UserError(f"--steps={steps}, --gif_frames={gif_frames}: both must be at least 2.")
  if pairs:
    pair_refs = parse_pairs(pairs, seed)
  else:
    if rows < 1:
      raise UserError(f"--rows={rows} is invalid: it must be a positive integer.")
    pair_refs = [((seed, 2 * r), (seed, 2 * r + 1)) for r in range(rows)]
  _check_png_out(out)
  generator = sampling.load_generator(workdir, step, seed_index=seed_index)
  ends = [_latents_of(pair, generator) for pair in pair_refs]

  _labels(generator, 0, label)  # Before any work.

  def pictures(num_steps):
    """uint8 [rows, num_steps, H, W, C], upscaled."""
    z = np.concatenate([np.asarray(sampling.interpolate(a, b, num_steps, method))
                        for a, b in ends])
    images = images_lib.upscale(sampling.to_uint8(
        generator, sampling.generate(generator, z, labels=_labels(generator, len(z), label))),
                                scale)
    return images.reshape(len(ends), num_steps, *images.shape[1:])

  grid = pictures(steps)
  png = _save_png(images_lib.make_grid(grid.reshape(-1, *grid.shape[2:]), num_rows=len(ends)),
                  out)
  walk = pictures(gif_frames)
  num_rows = int(np.ceil(np.sqrt(len(ends))))
  frames = [images_lib.make_grid(walk[:, t], num_rows=num_rows) for t in range(gif_frames)]
  frames += frames[-2:0:-1]  # And back, so the loop has no jump.
  gif = images_lib.save_gif(frames, os.path.splitext(out)[0] + ".gif", gif_seconds)
  return {"out": png, "gif": gif, "pairs": pair_refs, "step": generator.step,
          "ema": generator.uses_ema}


def run_arithmetic(workdir, out, expression, seed=0, scale=2, num_variants=7, noise=0.25,
                   class_samples=3, pool=1000, step=None, label=None,
                   seed_index=None):
  """Latent arithmetic (Radford et al. 2015): each term's latents are averaged, the averages
  added and subtracted, and the result generated with `num_variants` noisy neighbours.

  The picture has one row per term (its samples, then the image of their mean latent), then a
  row "=" (the result, then its variants). Terms are sample indices of `seed` ("3,7,12",
  "1:3") or `class:<name>`: the `class_samples` samples among the first `pool` of `seed` that
  the shipped classifier (mnist, fashion_mnist) puts in that class most confidently.

  Returns:
    {"out": the PNG, "terms": [(sign, [(seed, index), ...], description)], "step", "ema"}.
  """
  if num_variants < 0 or noise < 0 or class_samples < 1 or pool < 1:
    raise UserError("--num_variants and --noise must be >= 0, --class_samples and --pool >= 1.")
  terms = parse_expression(expression, seed)
  _check_png_out(out)
  class_terms = [name for _, name in terms if isinstance(name, str)]
  if class_terms:  # Check the names before any work.
    dataset = sampling.read_config(workdir).data.name
    for name in class_terms:
      class_index(dataset, name)
  generator = sampling.load_generator(workdir, step, seed_index=seed_index)
  _labels(generator, 0, label)
  predictions = names = None
  if class_terms:
    predictions = sampling.classify_samples(generator, dataset, pool, seed)
    names = sampling.class_names(dataset)

  resolved = []
  for sign, term in terms:
    if isinstance(term, str):
      index = class_index(dataset, term)
      try:
        chosen, probabilities = sampling.most_confident(*predictions, index, class_samples)
      except UserError:
        raise UserError(
            f"Only {int(np.sum(predictions[0] == index))} of the first {pool} samples of seed "
            f"{seed} are classified as {names[index]!r}; class:{term} needs {class_samples}. "
            "Raise --pool or lower --class_samples.") from None
      refs = [(seed, int(i)) for i in chosen]
      description = (f"class:{names[index]} = samples {_describe(refs, seed)} (p = "
                     + ", ".join(f"{p:.2f}" for p in probabilities) + ")")
    else:
      refs = term
      description = f"samples {_describe(refs, seed)}"
    resolved.append((sign, refs, description))

  to_images = lambda z: images_lib.upscale(sampling.to_uint8(
      generator, sampling.generate(generator, z, labels=_labels(generator, len(z), label))),
                                            scale)
  latent_terms = [(sign, _latents_of(refs, generator)) for sign, refs, _ in resolved]
  result = sampling.latent_arithmetic(latent_terms)
  rows, labels = [], []
  for sign, z in latent_terms:
    exemplars = list(to_images(z))
    mean_image = to_images(np.mean(z, axis=0, keepdims=True))[0]
    rows.append(exemplars + [None, mean_image])
    labels.append("+" if sign > 0 else "-")
  width = max(len(row) for row in rows)
  # Each term's mean-latent image in the same (last) column.
  rows = [row[:-2] + [None] * (width - len(row)) + row[-2:] for row in rows]
  neighbours = sampling.variations(result, num_variants + 1, noise, seed)
  rows.append(list(to_images(neighbours)))
  labels.append("=")
  png = _save_png(images_lib.labelled_rows(rows, labels), out)
  return {"out": png, "terms": resolved, "step": generator.step, "ema": generator.uses_ema}


# The command line.

def _define_flags():
  flags.DEFINE_string("workdir", None, "The training run's folder (config.json, checkpoints/).")
  flags.DEFINE_string("out", None, "sample: an .npz file or a folder ending with / (PNGs); "
                      "grid, interpolate, arithmetic: a .png file.")
  flags.DEFINE_integer("num", None, "sample: number of samples (default 10,000); grid: number "
                       "of samples shown (default 64); classes: samples per class (default 8).")
  flags.DEFINE_integer("label", None, "Class-conditional runs: the class of every sample "
                       "(sample, grid: default sample i of class i % num_classes).")
  flags.DEFINE_integer("seed", 0, "Seed of the latents: sample i of a seed is always the same.")
  flags.DEFINE_integer("batch_size", 500, "Latents per generator call (does not change the "
                       "samples).")
  flags.DEFINE_integer("step", None, "Checkpoint step (default: the newest).")
  flags.DEFINE_integer("seed_index", None, "A run of config.num_seeds = K GANs: which one, 0 .. "
                       "K-1 (GAN k is that of seed config.seed + k; default 0).")
  flags.DEFINE_integer("scale", 2, "Pictures: enlarge each sample this many times (nearest).")
  flags.DEFINE_string("pairs", None, "interpolate: FROM-TO pairs of sample indices of --seed "
                      "(or seed:index), e.g. 3-17,5-42; default: --rows pairs 0-1, 2-3, ...")
  flags.DEFINE_integer("rows", 8, "interpolate: number of pairs when --pairs is not given.")
  flags.DEFINE_integer("steps", 10, "interpolate: images per row, both ends included.")
  flags.DEFINE_enum("method", "slerp", sampling.INTERPOLATIONS,
                    "interpolate: along the great circle (slerp) or a straight line (linear).")
  flags.DEFINE_integer("gif_frames", 24, "interpolate: GIF frames from one end to the other.")
  flags.DEFINE_string("expression", None, "arithmetic: e.g. \"3,7,12 - 5,9 + 20\" or "
                      "\"class:sneaker - class:sandal + class:bag\" (spaces around + and -).")
  flags.DEFINE_integer("num_variants", 7, "arithmetic: noisy neighbours of the result shown.")
  flags.DEFINE_float("noise", 0.25, "arithmetic: neighbours add uniform noise in +-noise.")
  flags.DEFINE_integer("class_samples", 3, "arithmetic: samples averaged per class: term.")
  flags.DEFINE_integer("pool", 1000, "arithmetic: samples of --seed classified to find them.")


def _parse_flags(argv):
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    fail(f"{str(e).rstrip('.')}. Usage: python -m gan_jax.generate [{'|'.join(COMMANDS)}] "
          "--workdir=<run> --out=<path> ... (see --help).")


def run_command(command, values):
  """Runs `command` with the flag values in `values` (a dict); returns what it returns."""
  if command not in COMMANDS:
    raise UserError(f"Unknown command {command!r}: choose one of {', '.join(COMMANDS)} "
                    "(none means sample).")
  if not values.get("workdir"):
    raise UserError("--workdir is required: the folder of a training run.")
  if not values.get("out"):
    raise UserError("--out is required: where to write (.npz, folder/, or .png).")
  common = dict(workdir=values["workdir"], out=values["out"], seed=values["seed"],
                step=values["step"], seed_index=values.get("seed_index"))
  num = values["num"] if values["num"] is not None else DEFAULT_NUM.get(command)
  if command == "classes":
    return run_classes(num=num, scale=values["scale"], **common)
  common["label"] = values.get("label")
  if command == "sample":
    return run_sample(num=num, batch_size=values["batch_size"], **common)
  if command == "grid":
    return run_grid(num=num, scale=values["scale"], **common)
  if command == "interpolate":
    return run_interpolate(pairs=values["pairs"], rows=values["rows"], steps=values["steps"],
                           method=values["method"], scale=values["scale"],
                           gif_frames=values["gif_frames"], **common)
  if not values.get("expression"):
    raise UserError("arithmetic needs --expression, e.g. --expression=\"3,7,12 - 5,9 + 20\".")
  return run_arithmetic(expression=values["expression"], scale=values["scale"],
                        num_variants=values["num_variants"], noise=values["noise"],
                        class_samples=values["class_samples"], pool=values["pool"], **common)


def main(argv):
  if len(argv) > 2:
    fail(f"unexpected arguments {argv[2:]}; give at most one command ({', '.join(COMMANDS)}) "
          "and --flags.")
  command = argv[1] if len(argv) == 2 else "sample"
  logging.set_verbosity(logging.WARNING)
  try:
    result = run_command(command, flags.FLAGS.flag_values_dict())
  except UserError as e:
    logging.flush()
    fail(e)
  weights = "EMA weights" if result["ema"] else "weights"
  print(f"{command}: checkpoint step {result['step']} ({weights}) -> {result['out']}")
  if "gif" in result:
    print(f"GIF: {result['gif']}")
  for sign, _, description in result.get("terms", ()):
    print(f"  {'+' if sign > 0 else '-'} {description}")


if __name__ == "__main__":
  _define_flags()
  app.run(main, flags_parser=_parse_flags)
