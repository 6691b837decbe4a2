"""The training loop: set up (or resume) a run in a workdir, step, check, log, checkpoint.

Everything that can be wrong with the config, the data or the workdir raises before the first
step. A run resumes where its workdir's last checkpoint stopped, also after kill -9, and with
train.seed set it ends with the same weights as a run that was never interrupted: the
checkpoint holds the models, both optimizers, the step, the dropout RNG and each worker's input
iterator, and ops run deterministically.
"""

import contextlib
import dataclasses
import os
import shutil
import time

from absl import logging
import keras
import numpy as np
import tensorflow as tf
import tqdm

from hmr_tf.models import Discriminator
from hmr_tf.training import config as config_lib
from hmr_tf.training import distribute
from hmr_tf.training import inputs
from hmr_tf.training import step as step_lib
from hmr_tf.training import summaries
from hmr_tf.training import workdir as workdir_lib

# The keys of the progress bar, shortened.
_PROGRESS = {"loss/encoder": "loss", "loss/keypoints": "kp", "loss/discriminator": "d"}


class NonFiniteLoss(FloatingPointError):
  """A loss became NaN or infinite; the message names the step and the terms."""


@dataclasses.dataclass
class Result:
  """What a finished train() gives back."""

  step: int  # the last step trained
  history: list  # [(step, {metric: mean over the steps since the previous entry})]
  model: keras.Model  # the trained HMR


def train(config, workdir, dataset=None, strategy=None):
  """Trains HMR as `config` says, in `workdir`, resuming what is there.

  Call distribute.configure_devices first where config.distribute.logical_cpus asks for it.

  Args:
    config: a training ConfigDict (hmr_tf.training.config).
    workdir: the run's folder; created, or resumed where it holds a run.
    dataset: this worker's (person, mocap) batches to train on instead of config.data's (a
      tf.data.Dataset, whose iterator is checkpointed).
    strategy: the tf.distribute strategy to train under; None: distribute.make_strategy().

  Returns:
    A Result.

  Raises:
    ValueError, FileNotFoundError, hmr_tf.checks.BadInput: a config, data or workdir that
      cannot be used; raised before the first step.
    NonFiniteLoss: a loss was not finite. Nothing is saved after the last good checkpoint.
  """
  # First: a multi-worker strategy must be set up before any other op runs.
  strategy = strategy or distribute.make_strategy()
  config_lib.check(config)
  worker_index, num_workers, is_chief = distribute.worker(strategy)
  stored = _stored_config(workdir, config)
  fingerprint = workdir_lib.body_fingerprint(config)
  if stored is not None:
    workdir_lib.check_fingerprint(workdir, stored[1], config)
  distribute.check_batch_size(config.train.batch_size, strategy.num_replicas_in_sync,
                              bool(config.data.train_3d))
  if config.train.seed is not None:
    keras.utils.set_random_seed(config.train.seed)
    tf.config.experimental.enable_op_determinism()

  if dataset is None:
    dataset = inputs.train_dataset(config, distribute.input_context(strategy))
  iterator = iter(dataset)
  with _dtype_policy("mixed_float16" if config.train.mixed_precision else None), \
      strategy.scope():
    model = workdir_lib.build_model(config, synchronized_bn=strategy.num_replicas_in_sync > 1)
    discriminator = Discriminator(name="discriminator")
    optimizers = step_lib.make_optimizers(config, model, discriminator)
  step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
  checkpoints = _Checkpoints(workdir, config, worker_index, num_workers, is_chief,
                             tf.train.Checkpoint(
                                 model=model, discriminator=discriminator,
                                 encoder_optimizer=optimizers[0],
                                 discriminator_optimizer=optimizers[1], step=step,
                                 rng=_rng_states(model)),
                             tf.train.Checkpoint(iterator=iterator))
  checkpoints.restore()
  if is_chief:
    workdir_lib.write_config(workdir, config, fingerprint)
  train_step = step_lib.make_train_step(strategy, model, discriminator, optimizers, config)

  writer = (tf.summary.create_file_writer(os.path.join(workdir, workdir_lib.LOGS)) if is_chief
            else tf.summary.create_noop_writer())
  logging.info("training %s from step %d to %d on %d replica(s) of %d worker(s)", workdir,
               int(step.numpy()), config.train.steps, strategy.num_replicas_in_sync,
               num_workers)
  run = _Run(config, model, optimizers, train_step, step, checkpoints)
  history = []
  progress = tqdm.tqdm(total=config.train.steps, initial=int(step.numpy()), unit="step",
                       disable=not is_chief, dynamic_ncols=True)
  try:
    with progress:
      _loop(run, iterator, writer, progress, history)
  finally:  # also after a failed step: what was logged until then reaches the disk
    writer.close()
  return Result(int(step.numpy()), history, model)


@dataclasses.dataclass(frozen=True)
class _Run:
  """What the loop works with."""

  config: object
  model: keras.Model
  optimizers: tuple
  train_step: object
  step: tf.Variable
  checkpoints: object


def _loop(run, iterator, writer, progress, history):
  """Steps until config.train.steps, appending each scalar summary to `history`."""
  config = run.config
  averages = summaries.Averages()
  interval_start, interval_steps = time.perf_counter(), 0
  while run.step.numpy() < config.train.steps:
    batch = next(iterator)
    metrics = {name: float(value) for name, value in run.train_step(batch).items()}
    bad = sorted(name for name, value in metrics.items() if not np.isfinite(value))
    if bad:
      raise NonFiniteLoss(
          f"step {int(run.step.numpy()) + 1}: non-finite {', '.join(bad)} "
          f"({', '.join(f'{n}={metrics[n]}' for n in bad)}); stopped without saving, the last "
          f"checkpoint ({run.checkpoints.latest() or 'none'}) is intact")
    run.step.assign_add(1)
    step = int(run.step.numpy())
    averages.add(metrics)
    interval_steps += 1
    progress.update(1)
    progress.set_postfix({short: f"{metrics[name]:.4g}" for name, short in _PROGRESS.items()
                          if name in metrics}, refresh=False)
    last = step == config.train.steps
    with writer.as_default(step=step):
      if step % config.summary.every_steps == 0 or last:
        means = averages.pop()
        means["train/images_per_second"] = (interval_steps * config.train.batch_size
                                            / (time.perf_counter() - interval_start))
        for name, optimizer in zip(("encoder", "discriminator"), run.optimizers):
          means[f"train/learning_rate_{name}"] = float(optimizer.learning_rate.numpy())
        for name, value in means.items():
          tf.summary.scalar(name, value)
        history.append((step, means))
        interval_start, interval_steps = time.perf_counter(), 0
      if config.summary.images_every_steps and (
          step % config.summary.images_every_steps == 0 or last):
        _image_summary(run.model, batch[0], config.summary.num_images)
    if step % config.checkpoint.every_steps == 0 or last:
      run.checkpoints.save(step)


def _image_summary(model, person, count):
  images = person["image"][:count]
  outputs = {k: v.numpy() for k, v in model(images, training=False).items()}
  tf.summary.image("inputs_keypoints_mesh",
                   summaries.panels(images.numpy(), person["keypoints2d"][:count].numpy(),
                                    outputs, model.smpl.faces),
                   max_outputs=count)


def _stored_config(workdir, config):
  """(dict, fingerprint) of the workdir's config.json after checking that `config` may resume
  it, or None for a new workdir."""
  try:
    stored = workdir_lib.read_config(workdir)
  except FileNotFoundError:
    return None
  config_lib.check_resumable(stored[0], config)
  return stored


def _rng_states(model):
  """The dropout layers' seed-generator states, which a checkpoint of the model alone leaves
  out: without them a resumed run would draw other dropout masks. A list, in the model's
  order: their names are numbered per process, not per model."""
  return [v for v in model.variables if v.path.endswith("seed_generator_state")]


@contextlib.contextmanager
def _dtype_policy(name):
  """Keras' global dtype policy set to `name` (None: unchanged) while models are built."""
  previous = keras.mixed_precision.global_policy()
  if name:
    keras.mixed_precision.set_global_policy(name)
  try:
    yield
  finally:
    keras.mixed_precision.set_global_policy(previous)


class _Checkpoints:
  """The run's checkpoints: the state (models, optimizers, step, RNG) written by the chief, and
  each worker's input iterator, both numbered by step.

  A worker's iterator is saved before the state, so a state's step always has its iterators. Other
  workers than the chief write the state to a scratch folder that is then deleted, as
  MultiWorkerMirroredStrategy expects of every worker.
  """

  def __init__(self, workdir, config, worker_index, num_workers, is_chief, state, input_state):
    self._directory = os.path.join(workdir, workdir_lib.CHECKPOINTS)
    self._is_chief = is_chief
    keep = config.checkpoint.keep
    state_directory = (self._directory if is_chief else
                       os.path.join(self._directory, f"scratch-worker-{worker_index}"))
    self._state = state
    self._state_manager = tf.train.CheckpointManager(state, state_directory, keep)
    self._input_directory = os.path.join(self._directory,
                                         f"input-{worker_index}-of-{num_workers}")
    self._input_state = input_state
    # One more than the state, so that the iterator of the oldest kept state survives a crash
    # between the two saves.
    self._input_manager = tf.train.CheckpointManager(input_state, self._input_directory,
                                                     keep + 1)

  def latest(self):
    return tf.train.latest_checkpoint(self._directory)

  def restore(self):
    """Restores the latest checkpoint, if any, and this worker's iterator at its step."""
    path = self.latest()
    if path is None:
      return
    self._state.restore(path).assert_consumed()
    step = int(self._state.step.numpy())
    input_path = os.path.join(self._input_directory, f"ckpt-{step}")
    if not tf.io.gfile.exists(input_path + ".index"):
      raise FileNotFoundError(
          f"{path} has no input iterator for this worker at {input_path}: resume with the "
          "number of workers the run was started with")
    self._input_state.restore(input_path).assert_consumed()
    logging.info("restored %s", path)

  def save(self, step):
    self._input_manager.save(checkpoint_number=step)
    self._state_manager.save(checkpoint_number=step)
    if not self._is_chief:
      shutil.rmtree(self._state_manager.directory, ignore_errors=True)
