"""scripts/discriminator_overfitting.py: D's mean output on training and held-out images per
checkpoint, on the tiny run of the test config."""

import json

import jax
import numpy as np

from gan_jax import sampling
from scripts import discriminator_overfitting


def test_records_every_checkpoint_with_ds_mean_output_on_both_sets(tiny_run, tmp_path):
  workdir, _ = tiny_run
  records = discriminator_overfitting.measure(workdir, num_images=64)
  assert [(r["step"], r["seed"]) for r in records] == [(3, 0), (6, 0)]
  assert all(0 < r["d_train"] < 1 and 0 < r["d_held_out"] < 1 and r["ada_p"] is None
             for r in records)
  # Step 6 by hand: σ(D(x)) in inference mode on the first 64 training images of the split.
  state, _, config = sampling.restore_state(workdir, 6)
  training, held_out = discriminator_overfitting.evaluation_images(config, 64)
  assert training.shape == held_out.shape == (64, 28, 28, 1)
  logits = state.discriminator.module.apply(state.discriminator.variables(), training,
                                            train=False)
  np.testing.assert_allclose(records[1]["d_train"], float(np.mean(jax.nn.sigmoid(logits))),
                             rtol=1e-5)
  assert records[1]["d_train"] != records[1]["d_held_out"]
  with_p = [dict(r, ada_p=0.1 * r["step"]) for r in records]
  discriminator_overfitting.plot({"none": records, "ADA": with_p}, str(tmp_path / "curves.png"))
  assert (tmp_path / "curves.png").stat().st_size > 1000
  json.dumps(records)


def test_runs_are_label_equals_workdir_or_a_workdir_labelled_by_its_name():
  assert discriminator_overfitting.parse_run("ADA=runs/fm2500/ada") == ("ADA", "runs/fm2500/ada")
  assert discriminator_overfitting.parse_run("runs/fm2500/r1/") == ("r1", "runs/fm2500/r1/")
