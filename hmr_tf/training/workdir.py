"""A training run's folder, and the trained model it holds.

  workdir/config.json    the resolved config, with the body model's fingerprint
  workdir/checkpoints/   ckpt-<step>: the models, both optimizers, the step and the dropout RNG;
                         input-<i>-of-<n>/ckpt-<step>: worker i's input iterator
  workdir/logs/          TensorBoard events
"""

import json
import os

import tensorflow as tf

from hmr_tf import atomic
from hmr_tf import checks
from hmr_tf.body import spec
from hmr_tf.models import HMR
from hmr_tf.training import config as config_lib

CONFIG_FILE = "config.json"
CHECKPOINTS = "checkpoints"
LOGS = "logs"
FINGERPRINT = "body_model_fingerprint"


def body_fingerprint(config):
  """The fingerprint of the config's body model (hmr_tf.body.BodyModel.fingerprint)."""
  return spec.resolve(config.model.body_model).fingerprint


def write_config(workdir, config, fingerprint):
  """Writes workdir/config.json: the config's fields plus FINGERPRINT."""
  with atomic.atomic_write(os.path.join(workdir, CONFIG_FILE), "w") as f:
    json.dump({**config.to_dict(), FINGERPRINT: fingerprint}, f, indent=2, sort_keys=True)


def read_config(workdir):
  """(config dict, body-model fingerprint) of workdir/config.json; FileNotFoundError if none."""
  path = os.path.join(workdir, CONFIG_FILE)
  if not os.path.isfile(path):
    raise FileNotFoundError(f"no {CONFIG_FILE} in {workdir}: not a training workdir")
  with open(path, encoding="utf-8") as f:
    stored = json.load(f)
  fingerprint = stored.pop(FINGERPRINT, None)
  if fingerprint is None:
    raise checks.BadInput(f"{path}: no '{FINGERPRINT}' field")
  return stored, fingerprint


def load_config(workdir):
  """workdir's config as a ConfigDict of every field (defaults filled in), and its
  fingerprint."""
  stored, fingerprint = read_config(workdir)
  config = config_lib.defaults()
  config.update_from_flattened_dict(_flatten(stored))
  return config, fingerprint


def _flatten(nested, prefix=""):
  flat = {}
  for key, value in nested.items():
    if isinstance(value, dict):
      flat.update(_flatten(value, f"{prefix}{key}."))
    else:
      flat[prefix + key] = value
  return flat


def check_fingerprint(workdir, recorded, config):
  """Raises BadInput where the config's body model is not the one the workdir was trained with."""
  actual = body_fingerprint(config)
  if actual != recorded:
    raise checks.BadInput(
        f"body model {config.model.body_model!r} has fingerprint {actual[:16]}…, but "
        f"{os.path.join(workdir, CONFIG_FILE)} records {FINGERPRINT} {recorded[:16]}…: the "
        "checkpoints were trained with another body model; use that one")


def build_model(config, synchronized_bn=False, initial_weights=True):
  """The HMR model the config describes.

  Args:
    config: a training config.
    synchronized_bn: synchronized batch norm (for several replicas).
    initial_weights: load model.encoder_weights and model.mean_params; False where a checkpoint
      will overwrite them anyway.
  """
  m = config.model
  return HMR(encoder=m.encoder,
             encoder_weights=(m.encoder_weights or None) if initial_weights else None,
             image_size=m.image_size, num_iterations=m.num_iterations, dropout=m.dropout,
             body_model=m.body_model,
             mean_params=(m.mean_params or None) if initial_weights else None,
             synchronized_bn=synchronized_bn)


def checkpoint_path(workdir, step=None):
  """The checkpoint of `step`, or the latest one; FileNotFoundError naming what is there."""
  directory = os.path.join(workdir, CHECKPOINTS)
  state = tf.train.get_checkpoint_state(directory)
  if state is None:
    raise FileNotFoundError(f"no checkpoints in {directory}")
  if step is None:
    return state.model_checkpoint_path
  path = os.path.join(directory, f"ckpt-{step}")
  if path not in state.all_model_checkpoint_paths:
    kept = [os.path.basename(p) for p in state.all_model_checkpoint_paths]
    raise FileNotFoundError(f"no checkpoint of step {step} in {directory}; it keeps {kept}")
  return path


def load_model(workdir, step=None):
  """The trained HMR model of a workdir.

  Builds HMR from workdir/config.json and restores the weights of the latest checkpoint, or of
  `step`'s.

  Args:
    workdir: a training workdir.
    step: a checkpointed step, or None for the latest.

  Returns:
    (model, config): the HMR keras.Model and the run's ConfigDict.

  Raises:
    FileNotFoundError: no config.json or no such checkpoint.
    hmr_tf.checks.BadInput: the body model is not the one the run was trained with.
  """
  config, fingerprint = load_config(workdir)
  check_fingerprint(workdir, fingerprint, config)
  path = checkpoint_path(workdir, step)
  model = build_model(config, initial_weights=False)
  status = tf.train.Checkpoint(model=model).restore(path)
  status.expect_partial().assert_existing_objects_matched()
  return model, config
