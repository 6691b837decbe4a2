"""hmr-train in this process: overfitting a batch, a NaN stopping the run, TensorBoard,
load_model, bad input refused before any step, the config files. (Runs that must be exactly
repeatable, or need several devices or processes, are in test_training_distributed.py.)"""

import glob
import json
import math
import os
import shutil

import cv2
import numpy as np
import pytest
import tensorflow as tf

import training_world
from hmr_tf import checks
from hmr_tf.body import mean_params
from hmr_tf.data import shards
from hmr_tf.training import config as config_lib
from hmr_tf.training import distribute
from hmr_tf.training import inputs
from hmr_tf.training import trainer
from hmr_tf.training import workdir as workdir_lib

NAN_STEP = 151  # the overfitting run's batch at this step has NaN keypoints
CHECKPOINT_EVERY = 50


@pytest.fixture(scope="module")
def world(tmp_path_factory):
  return training_world.write_world(str(tmp_path_factory.mktemp("world")))


def _summaries(workdir):
  """({tag: {step: value}} of the TensorBoard scalars, [the image summaries' PNG bytes])."""
  scalars, images = {}, []
  for path in glob.glob(os.path.join(workdir, "logs", "*")):
    for record in tf.data.TFRecordDataset(path):
      event = tf.compat.v1.Event.FromString(record.numpy())
      for value in event.summary.value:
        if value.metadata.plugin_data.plugin_name == "images":
          images += list(tf.make_ndarray(value.tensor)[2:])  # width, height, then the PNGs
        else:
          scalars.setdefault(value.tag, {})[event.step] = float(tf.make_ndarray(value.tensor))
  return scalars, images


@pytest.fixture(scope="module")
def overfit(world, tmp_path_factory):
  """One batch, seen again at every step, until NaN keypoints at NAN_STEP; the keypoint loss
  alone, without dropout: the adversarial prior and the 3D losses (3D truth under a perspective
  camera, 2D fit under a weak-perspective one) rightly resist fitting a single batch exactly.

  Returns:
    (workdir, the NonFiniteLoss raised, {tag: {step: value}} of the TensorBoard scalars).
  """
  workdir = str(tmp_path_factory.mktemp("overfit"))
  config = training_world.tiny_config(world, {
      "train.steps": NAN_STEP + 10, "train.mode": "encoder_only", "train.encoder_lr": 3e-4,
      "loss.joints3d": 0.0, "loss.smpl": 0.0, "model.dropout": 0.0,
      "summary.every_steps": 1, "checkpoint.every_steps": CHECKPOINT_EVERY})
  batch = inputs.train_dataset(config).take(1).cache().repeat()
  poisoned = batch.enumerate().map(lambda i, b: (
      dict(b[0], keypoints2d=b[0]["keypoints2d"] * tf.where(i == NAN_STEP - 1, np.nan, 1.0)),
      b[1]))
  with pytest.raises(trainer.NonFiniteLoss) as error:
    trainer.train(config, workdir, dataset=poisoned)
  return workdir, error.value, _summaries(workdir)[0]


@pytest.fixture(scope="module")
def paper(world, tmp_path_factory):
  """configs/paper.py for one step at batch 8 on 224 px crops of the tiny world.

  Returns:
    (the Result, {tag: {step: value}} of the TensorBoard scalars, [image summaries' PNGs]).
  """
  config = training_world.config_file("paper")
  config.train.batch_size = 8
  config.train.steps = 1
  config.model.encoder_weights = ""  # no download in tests
  config.data.train = config.data.train_3d = world["synth"]  # 32 px people, cropped to 224
  config.data.mocap = world["mocap"]
  config.data.shuffle_buffer = 8
  workdir = str(tmp_path_factory.mktemp("paper"))
  return (trainer.train(config, workdir),) + _summaries(workdir)


def test_overfitting_one_batch_drives_the_keypoint_loss_down_10x(overfit):
  keypoints = overfit[2]["loss/keypoints"]
  last = [keypoints[step] for step in range(NAN_STEP - 10, NAN_STEP)]
  assert keypoints[1] > 10 * np.mean(last), keypoints


def test_a_nan_stops_the_run_naming_step_and_term_and_keeps_the_last_checkpoint(overfit):
  workdir, error, scalars = overfit
  assert f"step {NAN_STEP}:" in str(error) and "loss/keypoints" in str(error)
  assert "loss/smpl" not in str(error)  # the terms that stayed finite are not blamed
  assert max(scalars["loss/keypoints"]) == NAN_STEP - 1  # nothing logged for the bad step
  last_good = (NAN_STEP - 1) // CHECKPOINT_EVERY * CHECKPOINT_EVERY
  checkpoints = os.path.join(workdir, "checkpoints")
  assert tf.train.latest_checkpoint(checkpoints).endswith(f"ckpt-{last_good}")
  assert not glob.glob(os.path.join(checkpoints, f"ckpt-{last_good + CHECKPOINT_EVERY}*"))
  state = training_world.checkpoint_values(workdir)
  assert state["step/.ATTRIBUTES/VARIABLE_VALUE"] == last_good
  assert all(np.all(np.isfinite(v)) for v in state.values() if v.dtype.kind == "f")


def test_the_paper_config_runs_a_step_at_batch_8_on_224_crops(paper):
  result, scalars, _ = paper
  assert result.step == 1
  assert result.model.encoder.name == "resnet50_v2" and result.model.image_size == 224
  _, metrics = result.history[-1]
  assert all(np.isfinite(v) for v in metrics.values())
  assert metrics["loss/joints3d"] > 0 and metrics["loss/smpl"] > 0
  assert scalars["loss/encoder"][1] == pytest.approx(metrics["loss/encoder"])


def test_tensorboard_shows_every_loss_term_and_panels_of_the_inputs(paper):
  _, scalars, images = paper
  expected = {"loss/encoder", "loss/keypoints", "loss/joints3d", "loss/smpl",
              "loss/adversarial", "loss/discriminator", "loss/discriminator_real",
              "loss/discriminator_fake", "keypoints/iteration_1", "keypoints/iteration_2",
              "keypoints/iteration_3", "discriminator/real_score", "discriminator/fake_score",
              "train/learning_rate_encoder", "train/learning_rate_discriminator",
              "train/images_per_second"}
  assert expected <= set(scalars)
  assert scalars["train/learning_rate_encoder"][1] == pytest.approx(1e-5)
  assert scalars["keypoints/iteration_3"][1] == pytest.approx(scalars["loss/keypoints"][1])
  assert len(images) == 4  # summary.num_images of the last step's batch
  panel = cv2.imdecode(np.frombuffer(images[0], np.uint8), cv2.IMREAD_COLOR)
  assert panel.shape == (224, 448, 3)  # keypoints | mesh
  keypoints_side, mesh_side = np.split(panel.astype(float), 2, axis=1)
  assert np.abs(keypoints_side - mesh_side).mean() > 1.0  # the mesh was drawn


def test_load_model_restores_a_checkpoint_of_the_run(overfit):
  workdir = overfit[0]
  model, config = workdir_lib.load_model(workdir)
  assert (config.model.encoder, config.model.image_size) == ("small", 32)
  stored = list(training_world.checkpoint_values(workdir).values())
  for weight in model.weights:  # each restored weight is a tensor of the checkpoint
    value = weight.numpy()
    assert any(s.shape == value.shape and np.array_equal(s, value) for s in stored), weight.path
  assert not np.allclose(model.regressor.mean_theta.numpy(), mean_params.load_mean_params())
  earlier, _ = workdir_lib.load_model(workdir, step=CHECKPOINT_EVERY)
  images = tf.random.uniform([2, 32, 32, 3], -1.0, 1.0)
  assert not np.allclose(model(images)["theta"], earlier(images)["theta"])
  with pytest.raises(FileNotFoundError, match="no checkpoint of step 7"):
    workdir_lib.load_model(workdir, step=7)


def test_a_body_model_other_than_the_checkpoints_is_refused(overfit, world, tmp_path):
  workdir = str(tmp_path / "copy")
  shutil.copytree(overfit[0], workdir)
  path = os.path.join(workdir, "config.json")
  stored = json.loads(open(path, encoding="utf-8").read())
  stored["body_model_fingerprint"] = "0" * 64
  with open(path, "w", encoding="utf-8") as f:
    json.dump(stored, f)
  with pytest.raises(checks.BadInput, match="fingerprint"):
    workdir_lib.load_model(workdir)
  config = training_world.tiny_config(world, {
      "train.steps": NAN_STEP + 10, "train.mode": "encoder_only", "train.encoder_lr": 3e-4,
      "loss.joints3d": 0.0, "loss.smpl": 0.0, "model.dropout": 0.0})
  with pytest.raises(checks.BadInput, match="another body model"):
    trainer.train(config, workdir)


def _refused_before_any_step(config, workdir, error, match):
  with pytest.raises(error, match=match):
    trainer.train(config, workdir)
  assert not os.path.exists(os.path.join(workdir, "checkpoints", "checkpoint"))
  assert not os.path.exists(os.path.join(workdir, "config.json"))


def test_missing_shards_and_an_empty_dataset_are_refused_before_any_step(world, tmp_path):
  missing = str(tmp_path / "no_such_dataset")
  config = training_world.tiny_config(world, {"data.train": missing})
  _refused_before_any_step(config, str(tmp_path / "run1"), FileNotFoundError, missing)

  empty = str(tmp_path / "empty")
  stats = shards.write_split(empty, "train", [], lambda item: [])
  shards.write_info(empty, "empty", {"train": stats})
  config = training_world.tiny_config(world, {"data.train_3d": empty})
  _refused_before_any_step(config, str(tmp_path / "run2"), ValueError, "no examples")

  config = training_world.tiny_config(world, {"train.mode": "semi"})
  _refused_before_any_step(config, str(tmp_path / "run3"), ValueError, "train.mode")


def test_a_resumed_run_may_not_change_what_is_trained(overfit, world):
  workdir = overfit[0]
  config = training_world.tiny_config(world, {"model.dropout": 0.0, "model.num_iterations": 2})
  with pytest.raises(ValueError, match="model.num_iterations"):
    trainer.train(config, workdir)


def test_batch_sizes_that_do_not_split_over_the_replicas_are_refused():
  distribute.check_batch_size(8, 4, with_3d=False)
  distribute.check_batch_size(8, 2, with_3d=True)
  with pytest.raises(ValueError, match="does not split over 4 replicas"):
    distribute.check_batch_size(6, 4, with_3d=False)
  with pytest.raises(ValueError, match="half 2D and half 3D"):
    distribute.check_batch_size(6, 2, with_3d=True)


def test_replica_batch_gives_each_replica_half_2d_half_3d():
  batch = tf.range(8)  # [2D 0..3 | 3D 4..7]
  parts = [distribute.replica_batch(batch, i, 2, groups=2).numpy() for i in range(2)]
  assert [p.tolist() for p in parts] == [[0, 1, 4, 5], [2, 3, 6, 7]]
  assert distribute.replica_batch(batch, 1, 2).numpy().tolist() == [4, 5, 6, 7]


def test_data_fields_parse_into_folders_or_weights():
  assert inputs.parse_datasets("a, b", "data.train") == ["a", "b"]
  assert inputs.parse_datasets("a:1,b:0.5", "data.train") == {"a": 1.0, "b": 0.5}
  assert inputs.parse_datasets("", "data.train_3d") == []
  with pytest.raises(ValueError, match="data.train: give every folder a weight or none"):
    inputs.parse_datasets("a:1,b", "data.train")


def test_paper_config_is_the_papers_recipe():
  config = training_world.config_file("paper")
  config_lib.check(config)
  assert (config.train.batch_size, config.model.image_size, config.model.num_iterations) == (
      64, 224, 3)
  assert (config.train.encoder_lr, config.train.discriminator_lr) == (1e-5, 1e-4)
  assert (config.loss.keypoints, config.loss.joints3d, config.loss.smpl,
          config.loss.adversarial) == (60.0, 60.0, 60.0, 1.0)
  assert config.model.encoder == "resnet50_v2" and config.model.dropout == 0.5
  # 55 epochs of the 569 753 images of HMR's datasets at 64 per step.
  assert config.train.steps == math.ceil(55 * 569_753 / 64) == 489_632
  assert len(inputs.parse_datasets(config.data.train, "data.train")) == 4
  assert len(inputs.parse_datasets(config.data.train_3d, "data.train_3d")) == 2
  assert len(inputs.parse_datasets(config.data.mocap, "data.mocap")) == 3
