"""What `python -m gan_jax.generate` reads from the command line: samples named by (seed, index),
pairs of them, latent-arithmetic expressions and class names."""

import re

from gan_jax import sampling
from gan_jax.data import catalog
from gan_jax.errors import UserError


def parse_latent_refs(text, seed):
  """"3,7,12" or "1:3,7" -> [(seed, 3), (seed, 7), (seed, 12)] / [(1, 3), (seed, 7)]."""
  refs = []
  for token in text.split(","):
    token = token.strip()
    match = re.fullmatch(r"(?:(\d+):)?(\d+)", token)
    if match is None:
      raise UserError(f"{token!r} is not a sample: name samples by index (3) or seed:index "
                      "(1:3), separated by commas.")
    refs.append((int(match.group(1)) if match.group(1) is not None else seed,
                 int(match.group(2))))
  return refs


def parse_pairs(text, seed):
  """"3-17,1:5-2:5" -> [((seed, 3), (seed, 17)), ((1, 5), (2, 5))]."""
  pairs = []
  for token in text.split(","):
    ends = token.strip().split("-")
    if len(ends) != 2:
      raise UserError(f"--pairs: {token.strip()!r} is not a pair; write FROM-TO, e.g. "
                      "--pairs=3-17,5-42 (indices of the --seed grid, or seed:index).")
    pairs.append(tuple(parse_latent_refs(end, seed)[0] for end in ends))
  return pairs


def parse_expression(text, seed):
  """"3,7 - class:sandal + 1:20" -> [(+1, [(seed, 3), (seed, 7)]), (-1, "sandal"), (+1, [(1, 20)])].

  Terms are separated by + or - with spaces around them (class names such as "T-shirt/top" hold
  a dash); a leading "- " negates the first term.
  """
  usage = ("write terms of sample indices (3,7,12 or seed:index) or class:<name>, joined by "
           "' + ' and ' - ' with spaces around the signs, e.g. --expression=\"3,7,12 - 5,9 + "
           "20\" or \"class:sneaker - class:sandal + class:bag\"")
  body = text.strip()
  first_sign = 1
  if re.match(r"[+-]\s", body):
    first_sign, body = (1 if body[0] == "+" else -1), body[1:].strip()
  parts = re.split(r"\s+([+-])(?:\s+|$)", body)
  signs = [first_sign] + [1 if op == "+" else -1 for op in parts[1::2]]
  terms = []
  for sign, term in zip(signs, parts[0::2]):
    term = term.strip()
    if not term:
      raise UserError(f"--expression={text!r} has an empty term; {usage}.")
    if term.lower().startswith("class:"):
      name = term[len("class:"):].strip()
      if not name:
        raise UserError(f"--expression={text!r}: {term!r} names no class; {usage}.")
      terms.append((sign, name))
      continue
    try:
      terms.append((sign, parse_latent_refs(term, seed)))
    except UserError:
      raise UserError(f"--expression={text!r}: {term!r} is not a term; {usage}.") from None
  return terms


def class_index(dataset, name):
  """Index of class `name` of `dataset` (case, spaces and punctuation ignored; or the index)."""
  names = sampling.class_names(dataset)
  if dataset not in catalog.classifier_datasets():
    raise UserError(f"class: terms need a dataset with a shipped classifier "
                    f"({', '.join(catalog.classifier_datasets())}); this run's dataset is "
                    f"{dataset!r}. Name samples by index.")
  simple = lambda s: re.sub(r"[^a-z0-9]", "", s.lower())
  for index, candidate in enumerate(names):
    if simple(candidate) == simple(name):
      return index
  if name.isdigit() and int(name) < len(names):
    return int(name)
  raise UserError(f"class:{name} is not a {dataset} class; the classes are: "
                  f"{', '.join(names)}.")
