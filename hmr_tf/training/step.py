"""One training step: HMR's losses, then the encoder's and the discriminator's Adam updates.

As in the original (src/trainer.py), one forward pass serves both updates: the encoder,
regressor and mean Θ minimise the encoder loss, then the discriminator minimises its own, both
with gradients of that same pass. Reprojection and 3D losses use the last iteration; the
discriminator sees the Θ of every iteration (anchors §1.3).
"""

import functools

import keras
import tensorflow as tf

from hmr_tf import geometry
from hmr_tf import joints
from hmr_tf import theta as theta_lib
from hmr_tf.training import distribute
from hmr_tf.training import losses

_NUM_LSP = len(joints.LSP_14)  # cocoplus begins with the 14 LSP joints


def make_optimizers(config, model, discriminator):
  """The two Adams (encoder side, discriminator), built on their variables.

  Call inside the strategy's scope: an optimizer built lazily inside a replica function fails
  (tf_facts §1). Under mixed precision each is a LossScaleOptimizer with a dynamic scale.
  """
  def adam(learning_rate, variables):
    optimizer = keras.optimizers.Adam(learning_rate,
                                      weight_decay=config.train.weight_decay or None)
    if config.train.mixed_precision:
      optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(variables)
    return optimizer
  return (adam(config.train.encoder_lr, model.trainable_variables),
          adam(config.train.discriminator_lr, discriminator.trainable_variables))


def compute_losses(model, discriminator, person, mocap, config, all_reduce, training=True):
  """HMR's losses and the step's diagnostics on one replica's batch.

  Args:
    model: the HMR model.
    discriminator: the Discriminator.
    person: a batch of the input pipeline's person dicts ([b, ...]).
    mocap: {"pose" [m, 72], "shape" [m, 10]} real SMPL parameters.
    config: the training config (train.mode, loss weights).
    all_reduce: the replica context's sum (see hmr_tf.training.losses), or the identity.
    training: dropout and batch-norm mode.

  Returns:
    (encoder_loss [], discriminator_loss [], metrics {name: []}). Every value is this replica's
    share of the global batch's value: the sum over replicas is that of the whole batch.
  """
  weights, mode = config.loss, config.train.mode
  out = model(person["image"], training=training)
  thetas = out["thetas"]  # [b, T, 85]
  metrics = {"loss/keypoints": losses.keypoint_loss(person["keypoints2d"], out["keypoints2d"],
                                                    all_reduce)}
  for t, keypoints2d in enumerate(_earlier_keypoints(model, thetas)):
    metrics[f"keypoints/iteration_{t + 1}"] = losses.keypoint_loss(
        person["keypoints2d"], keypoints2d, all_reduce)
  metrics[f"keypoints/iteration_{model.num_iterations}"] = metrics["loss/keypoints"]
  encoder_loss = weights.keypoints * metrics["loss/keypoints"]

  if mode != "unpaired":
    metrics["loss/joints3d"] = losses.joints3d_loss(
        person["keypoints3d"], out["keypoints3d"][:, :_NUM_LSP], person["has_3d"], all_reduce)
    metrics["loss/smpl"] = losses.smpl_loss(person["pose"], person["shape"], out["rotmats"],
                                            out["shape"], person["has_smpl"], all_reduce)
    encoder_loss += (weights.joints3d * metrics["loss/joints3d"]
                     + weights.smpl * metrics["loss/smpl"])

  discriminator_loss = tf.constant(0.0)
  if mode != "encoder_only":
    _, pose, shape = theta_lib.split(tf.reshape(thetas, [-1, theta_lib.SIZE]))  # [b·T, ...]
    fake = _rotmats(pose)
    real = _rotmats(mocap["pose"])
    scores = discriminator(tf.concat([real, fake], 0), tf.concat([mocap["shape"], shape], 0))
    real_scores, fake_scores = scores[:tf.shape(real)[0]], scores[tf.shape(real)[0]:]
    metrics["loss/adversarial"] = losses.least_squares(fake_scores, 1.0, all_reduce)
    metrics["loss/discriminator_real"] = losses.least_squares(real_scores, 1.0, all_reduce)
    metrics["loss/discriminator_fake"] = losses.least_squares(fake_scores, 0.0, all_reduce)
    metrics["discriminator/real_score"] = losses.weighted_mean(real_scores, 1.0, all_reduce)
    metrics["discriminator/fake_score"] = losses.weighted_mean(fake_scores, 1.0, all_reduce)
    encoder_loss += weights.adversarial * metrics["loss/adversarial"]
    discriminator_loss = weights.adversarial * (metrics["loss/discriminator_real"]
                                                + metrics["loss/discriminator_fake"])
    metrics["loss/discriminator"] = discriminator_loss
  metrics["loss/encoder"] = encoder_loss
  return encoder_loss, discriminator_loss, metrics


def _rotmats(pose):
  """[N, 72] axis-angle -> [N, 24, 3, 3]."""
  return geometry.axis_angle_to_matrix(tf.reshape(pose, [tf.shape(pose)[0], -1, 3]))


def _earlier_keypoints(model, thetas):
  """Projected keypoints [b, K, 2] of every iteration but the last (the model gives that one),
  for the per-iteration error; no gradient flows through them."""
  count = model.num_iterations - 1
  if not count:
    return []
  thetas = tf.stop_gradient(thetas[:, :count])
  batch = tf.shape(thetas)[0]
  camera, pose, shape = theta_lib.split(tf.reshape(thetas, [-1, theta_lib.SIZE]))
  projected = geometry.weak_perspective_projection(model.smpl(pose, shape)["keypoints"], camera)
  projected = tf.reshape(projected, [batch, count, -1, 2])
  return tf.unstack(projected, axis=1)


def make_train_step(strategy, model, discriminator, optimizers, config):
  """The compiled step: batch -> metrics, updating the weights.

  Args:
    strategy: the tf.distribute strategy the models and optimizers were built under.
    model, discriminator: as in compute_losses.
    optimizers: (encoder optimizer, discriminator optimizer) from make_optimizers.
    config: the training config.

  Returns:
    A tf.function taking this worker's (person, mocap) batch and returning {name: []} metrics of
    the global batch (see compute_losses).
  """
  encoder_optimizer, discriminator_optimizer = optimizers
  with_discriminator = config.train.mode != "encoder_only"
  person_groups = 2 if config.data.train_3d else 1  # [2D half | 3D half]
  num_local = distribute.local_replicas(strategy)
  worker_index = distribute.worker(strategy)[0]

  def gradients(person, mocap):
    all_reduce = functools.partial(tf.distribute.get_replica_context().all_reduce,
                                   tf.distribute.ReduceOp.SUM)
    with tf.GradientTape() as encoder_tape, tf.GradientTape() as discriminator_tape:
      encoder_loss, discriminator_loss, metrics = compute_losses(
          model, discriminator, person, mocap, config, all_reduce)
      scaled_encoder_loss = encoder_optimizer.scale_loss(encoder_loss)
      scaled_discriminator_loss = discriminator_optimizer.scale_loss(discriminator_loss)
    encoder_grads = encoder_tape.gradient(scaled_encoder_loss, model.trainable_variables)
    discriminator_grads = (
        discriminator_tape.gradient(scaled_discriminator_loss,
                                    discriminator.trainable_variables)
        if with_discriminator else [])
    return encoder_grads, discriminator_grads, metrics

  if config.train.jit_compile:  # XLA compiles the forward and backward pass, not the updates
    gradients = tf.function(gradients, jit_compile=True, autograph=False)

  def replica_step(person, mocap):
    encoder_grads, discriminator_grads, metrics = gradients(person, mocap)
    encoder_optimizer.apply_gradients(zip(encoder_grads, model.trainable_variables))
    if with_discriminator:
      discriminator_optimizer.apply_gradients(
          zip(discriminator_grads, discriminator.trainable_variables))
    return metrics

  # No autograph: the step has no Python control flow on tensors, and converting the Keras
  # layers' code would double the time to trace it.
  @tf.function(autograph=False)
  def train_step(batch):
    def replica_value(context):
      local = context.replica_id_in_sync_group - worker_index * num_local
      person, mocap = batch
      return (distribute.replica_batch(person, local, num_local, person_groups),
              distribute.replica_batch(mocap, local, num_local))
    person, mocap = strategy.experimental_distribute_values_from_function(replica_value)
    metrics = strategy.run(replica_step, args=(person, mocap))
    return {name: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
            for name, value in metrics.items()}

  return train_step
