"""Shared set-up of the training tests: a tiny synthetic world on disk, tiny configs from the
real config files, checkpoint readers, and the scenarios that run in fresh processes (deterministic
ops and logical devices are process-wide, and kill -9 needs a process)."""

import importlib.util
import json
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE_SIZE = 32
BATCH = 4


def write_world(root, num=32):
  """Synthetic people (free body, IMAGE_SIZE px) and a joint-limit pose pool under root.

  Returns:
    {"synth": person folder, "mocap": mocap folder}.
  """
  from hmr_tf.synth import generate  # pylint: disable=import-outside-toplevel
  from hmr_tf.synth import pose_pool  # pylint: disable=import-outside-toplevel
  from hmr_tf.synth import split  # pylint: disable=import-outside-toplevel
  folders = {"synth": os.path.join(root, "synth"), "mocap": os.path.join(root, "mocap")}
  world = generate.SynthWorld(["free"], image_size=IMAGE_SIZE, seed=0)
  split.write_split(world, folders["synth"], "train", num, items_per_shard=num // 2)
  pose_pool.write_pose_pool(folders["mocap"], 3 * num)
  return folders


def config_file(name, arg=None):
  """get_config(arg) of configs/<name>.py, loaded as hmr-train's --config loads it."""
  spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, "configs", f"{name}.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


def tiny_fields(folders, fields=None):
  """{"section.name": value} that shrink configs/quickstart.py for tests, plus `fields`."""
  return {"model.image_size": IMAGE_SIZE, "train.batch_size": BATCH,
          "data.train": folders["synth"], "data.mocap": folders["mocap"],
          "data.shuffle_buffer": 16, "summary.images_every_steps": 0, **(fields or {})}


def tiny_config(folders, fields=None):
  """configs/quickstart.py with tiny_fields set, as hmr-train's --config.<path> sets them."""
  config = config_file("quickstart")
  for path, value in tiny_fields(folders, fields).items():
    section, name = path.split(".")
    config[section][name] = value
  return config


def cli_flags(folders, fields=None):
  """hmr-train's flags for tiny_config(folders, fields)."""
  return ["--config=" + os.path.join(REPO, "configs", "quickstart.py")] + [
      f"--config.{path}={value}" for path, value in tiny_fields(folders, fields).items()]


def checkpoint_values(workdir, step=None):
  """{name: array} of every variable in workdir's checkpoint of `step` (or the latest)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  directory = os.path.join(workdir, "checkpoints")
  path = (tf.train.latest_checkpoint(directory) if step is None
          else os.path.join(directory, f"ckpt-{step}"))
  reader = tf.train.load_checkpoint(path)
  return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
          if not name.startswith(("_CHECKPOINTABLE_OBJECT_GRAPH", "save_counter"))}


# A seeded run, saved every 2 steps: resumed runs must end exactly where one run does.
DETERMINISTIC = {"train.seed": 0, "checkpoint.every_steps": 2}


def _folders(root):
  with open(os.path.join(root, "world.json"), encoding="utf-8") as f:
    return json.load(f)


def resume_in_process(root):
  """Run A: 6 steps at once; run B: 3 steps, then resumed to 6 by a second train()."""
  from hmr_tf.training import trainer  # pylint: disable=import-outside-toplevel
  folders = _folders(root)
  for name, steps in (("a", 6), ("b", 3), ("b", 6)):
    trainer.train(tiny_config(folders, {**DETERMINISTIC, "train.steps": steps}),
                  os.path.join(root, name))


def replicas(root):
  """One step on one device and on two mirrored logical CPUs, from the same start, with the
  same global batch (no dropout: each replica would draw its own masks); then a batch that
  cannot be split."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from hmr_tf.training import distribute  # pylint: disable=import-outside-toplevel
  from hmr_tf.training import trainer  # pylint: disable=import-outside-toplevel
  distribute.configure_devices(2)
  folders = _folders(root)
  fields = {**DETERMINISTIC, "train.steps": 1, "model.dropout": 0.0}
  two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
  trainer.train(tiny_config(folders, fields), os.path.join(root, "one"),
                strategy=tf.distribute.OneDeviceStrategy("/cpu:0"))
  trainer.train(tiny_config(folders, fields), os.path.join(root, "two"), strategy=two)
  # With 3D data each replica needs an even share: 6 = 2 × 3 cannot be halved.
  odd = {**fields, "train.batch_size": 6, "data.train_3d": folders["synth"]}
  try:
    trainer.train(tiny_config(folders, odd), os.path.join(root, "odd"), strategy=two)
  except ValueError as error:
    with open(os.path.join(root, "odd_error.txt"), "w", encoding="utf-8") as f:
      f.write(str(error))


def multi_worker(root, index):
  """Worker `index` of two (TF_CONFIG set by the caller): 2 steps, then resumed to 4 from the
  chief's checkpoint; writes its model's weights and the steps it trained after each."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from hmr_tf.training import trainer  # pylint: disable=import-outside-toplevel
  strategy = tf.distribute.MultiWorkerMirroredStrategy()
  folders = _folders(root)
  for steps in (2, 4):
    config = tiny_config(folders, {**DETERMINISTIC, "train.steps": steps,
                                   "summary.every_steps": 1})
    result = trainer.train(config, os.path.join(root, "mwms"), strategy=strategy)
    np.savez(os.path.join(root, f"worker{index}_step{steps}.npz"), *result.model.get_weights(),
             steps=[step for step, _ in result.history])


if __name__ == "__main__":
  sys.path.insert(0, REPO)
  globals()[sys.argv[1]](*sys.argv[2:])
