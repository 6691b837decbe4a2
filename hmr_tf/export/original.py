"""The authors' released HMR checkpoint (TF1, model.ckpt-667589) onto our HMR model.

The original (akanazawa/hmr, src/RunModel.py) is slim's resnet_v2_50 under
resnet_arg_scope, global-pooled (scope "resnet_v2_50"), the regressor "3D_module" (fc1, fc2
1024 ReLU, fc3 85 linear, shared by the T = 3 iterations, input [φ, Θ]) and the trainable
mean Θ₀ "mean_param" [1, 85]; images in [-1, 1]; Θ = [s, tx, ty | 72 pose | 10 shape]. Our
HMR has the same layout, input range and Θ: hmr_tf/models/resnet_v2.py follows slim exactly
(pool1's SAME padding, conv2d_same, batch-norm epsilon 1e-5) and names its layers as Keras's
ResNet50V2, so each slim variable maps onto one Keras weight by name (`variable_map`). The
checkpoint's other variables (the discriminator "D", Adam's slots, the global step) are not
read.

Symbols: b = slim block (1–4), u = unit within it; Keras stacks are conv{b+1}, units block{u}.
"""

import numpy as np
import tensorflow as tf

from hmr_tf.checks import BadInput
from hmr_tf.models import HMR
from hmr_tf.models import resnet_v2

ENCODER_SCOPE = "resnet_v2_50"
REGRESSOR_SCOPE = "3D_module"
MEAN_THETA = "mean_param"
NUM_ITERATIONS = 3  # the original's num_stage
IMAGE_SIZE = 224  # the original's img_size

_BATCH_NORM = ("gamma", "beta", "moving_mean", "moving_variance")  # Keras's weight order


def _layer_variables():
  """(Keras layer name, [slim variable names in the layer's weight order]) of the encoder."""
  yield "conv1_conv", [f"{ENCODER_SCOPE}/conv1/weights", f"{ENCODER_SCOPE}/conv1/biases"]
  for stack, block, _, units, _ in resnet_v2.SLIM_BLOCKS:
    for u in range(1, units + 1):
      slim = f"{ENCODER_SCOPE}/{block}/unit_{u}/bottleneck_v2"
      keras_unit = f"{stack}_block{u}"
      yield f"{keras_unit}_preact_bn", [f"{slim}/preact/{v}" for v in _BATCH_NORM]
      if u == 1:  # each block's first unit changes the depth: a projection shortcut
        yield f"{keras_unit}_0_conv", [f"{slim}/shortcut/weights", f"{slim}/shortcut/biases"]
      for conv in (1, 2):
        yield f"{keras_unit}_{conv}_conv", [f"{slim}/conv{conv}/weights"]
        yield f"{keras_unit}_{conv}_bn", [f"{slim}/conv{conv}/BatchNorm/{v}" for v in _BATCH_NORM]
      yield f"{keras_unit}_3_conv", [f"{slim}/conv3/weights", f"{slim}/conv3/biases"]
  yield "post_bn", [f"{ENCODER_SCOPE}/postnorm/{v}" for v in _BATCH_NORM]


def variable_names():
  """The original's variables that the port reads, in variable_map's order."""
  names = [name for _, layer_names in _layer_variables() for name in layer_names]
  for fc in ("fc1", "fc2", "fc3"):
    names += [f"{REGRESSOR_SCOPE}/{fc}/weights", f"{REGRESSOR_SCOPE}/{fc}/biases"]
  return names + [MEAN_THETA]


def variable_map(model):
  """Every weight of an HMR with the resnet50_v2 encoder, paired with its slim variable.

  Returns:
    A list of (slim variable name, keras.Variable), covering all of the model's weights but
    the body model's constants.
  """
  weights = [w for layer_name, _ in _layer_variables()
             for w in model.encoder.get_layer(layer_name).weights]
  for fc in ("fc1", "fc2", "fc3"):
    layer = getattr(model.regressor, fc)
    weights += [layer.kernel, layer.bias]
  return list(zip(variable_names(), weights + [model.regressor.mean_theta], strict=True))


def load_original(checkpoint, body_model, image_size=IMAGE_SIZE):
  """Our HMR holding the weights of an original HMR checkpoint.

  Args:
    checkpoint: the checkpoint prefix, e.g. "models/model.ckpt-667589" (the .index and
      .data files beside it), or a directory with a `checkpoint` file.
    body_model: the body model (a hmr_tf.body spec): the original's is the licensed
      neutral_smpl_with_cocoplus_reg.pkl; another gives another mesh for the same Θ.
    image_size: the input side; the original ran at 224.

  Returns:
    An HMR keras.Model (resnet50_v2, T = 3).

  Raises:
    BadInput: the checkpoint lacks a variable or holds one of another shape.
  """
  try:
    reader = tf.train.load_checkpoint(checkpoint)
  except (ValueError, tf.errors.OpError) as e:
    raise BadInput(f"{checkpoint}: not a readable TF checkpoint ({e})") from e
  shapes = reader.get_variable_to_shape_map()
  missing = [name for name in variable_names() if name not in shapes]
  if missing:
    raise BadInput(f"{checkpoint}: not an original HMR checkpoint: {len(missing)} of its "
                   f"variables are missing, e.g. {missing[:3]}")
  model = HMR(encoder="resnet50_v2", image_size=image_size, num_iterations=NUM_ITERATIONS,
              body_model=body_model)
  for name, variable in variable_map(model):
    value = reader.get_tensor(name)
    # The one reshape: mean_param is [1, 85], our mean Θ [85].
    if value.shape != tuple(variable.shape) and not (name == MEAN_THETA and
                                                     value.size == variable.shape[0]):
      raise BadInput(f"{checkpoint}: variable '{name}' has shape {list(value.shape)}; "
                     f"expected {list(variable.shape)}")
    variable.assign(np.reshape(value, variable.shape).astype(np.float32))
  return model
