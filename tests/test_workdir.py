"""gan_jax.workdir: a run's folder, its config.json, old configs upgraded, the resume check."""

import json

import pytest

from configs import dcgan_fashion_mnist, mlp_fashion_mnist
from configs import test as test_config
from gan_jax import workdir
from gan_jax.errors import UserError


def test_upgrade_fills_the_fields_an_old_config_lacks_with_their_old_behaviour():
  config = test_config.get_config().to_dict()
  old = json.loads(json.dumps(config))
  for field in ("pack", "update_order", "pack_batch", "steps_per_dispatch", "num_seeds"):
    old.pop(field)
  old["share_generator_forward"] = False
  upgraded = workdir.upgrade(old)
  assert "share_generator_forward" not in upgraded
  for field in ("pack", "update_order", "pack_batch", "steps_per_dispatch", "num_seeds"):
    assert upgraded[field] == config[field], field
  assert workdir.upgrade(upgraded) == upgraded  # Once is enough.


def test_a_workdir_that_is_a_file_is_one_user_error(tmp_path):
  path = tmp_path / "run"
  path.write_text("not a folder")
  with pytest.raises(UserError, match="run"):
    workdir.prepare(str(path))


def test_runs_saved_before_a_field_existed_resume_under_its_old_behaviour():
  """A config.json without `pack` (or the MLP options, or the speed options) matches pack=1
  (and the article's MLP, two generator forwards)."""
  config = mlp_fashion_mnist.get_config()
  saved = json.loads(config.to_json_best_effort())
  del saved["pack"], saved["model"]["generator_output_activation"]
  del saved["update_order"], saved["dtype"], saved["steps_per_dispatch"]
  assert workdir.resume_differences(saved, config) == []
  config.pack = 4
  assert workdir.resume_differences(saved, config) == [
      "  pack: 1 in the saved run -> 4 now"]


def test_share_generator_forward_of_older_runs_reads_as_update_order():
  config = mlp_fashion_mnist.get_config()
  saved = json.loads(config.to_json_best_effort())
  del saved["update_order"]
  saved["share_generator_forward"] = True
  assert workdir.resume_differences(saved, config) == [
      "  update_order: 'shared_forward' in the saved run -> 'alternating' now"]
  config.update_order = "shared_forward"
  assert workdir.resume_differences(saved, config) == []


def test_ema_and_conditional_decide_whether_a_run_resumes():
  config = dcgan_fashion_mnist.get_config()
  saved = json.loads(config.to_json_best_effort())
  assert workdir.resume_differences(saved, config) == []
  config.ema_decay = 0.999
  config.conditional = True
  assert workdir.resume_differences(saved, config) == [
      "  conditional: False in the saved run -> True now",
      "  ema_decay: None in the saved run -> 0.999 now"]
  # A config.json written before the fields existed resumes under their defaults only.
  del saved["ema_decay"], saved["conditional"]
  assert len(workdir.resume_differences(saved, config)) == 2
  config.ema_decay, config.conditional = None, False
  assert workdir.resume_differences(saved, config) == []


def test_runs_saved_before_augmentation_and_r1_read_as_without_them():
  """A config.json without the augment section or the R1/R2 fields trained without them; a
  section missing a field added later gets that field's old value, the others are kept."""
  config = dcgan_fashion_mnist.get_config()
  saved = json.loads(config.to_json_best_effort())
  del saved["augment"], saved["r1_gamma"], saved["r2_gamma"], saved["regularization_interval"]
  upgraded = workdir.upgrade(saved)
  assert upgraded["augment"] == config.augment.to_dict()
  assert (upgraded["r1_gamma"], upgraded["regularization_interval"]) == (0.0, 1)
  assert workdir.resume_differences(saved, config) == []
  partial = json.loads(config.to_json_best_effort())
  partial["augment"] = {"method": "ada", "ada_p": 0.2}
  assert workdir.upgrade(partial)["augment"] == {**config.augment.to_dict(), "method": "ada",
                                                 "ada_p": 0.2}
  config.augment.method = "ada"
  assert workdir.resume_differences(saved, config) == [
      "  augment.method: 'none' in the saved run -> 'ada' now"]
