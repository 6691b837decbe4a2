"""A small pre-activation ResNet for CPU runs on small images (the quickstart's encoder).

Why this one: it is ResNet-50 v2's recipe shrunk (the same pre-activation units, batch norm
and global mean pool, so training, synchronized BN included, treats both alike),
with four stages of two 3×3 convolutions each at 32–256 channels, 1.2 M parameters. At 64–96 px
it runs 3.5–5 times faster than ResNet-50 v2 (README, "Benchmarks"). Two changes make it learn
fast from scratch at that size:
  - two coordinate channels (x, y in [-1, 1]) join the image at the input (CoordConv, Liu et
    al. 2018): the features are pooled over space, so a small network must otherwise learn
    where things are from the zero padding alone. On 1,024 synthetic 64 px people (keypoint
    and SMPL losses, Adam 1e-3, batch 32) the training keypoint error started falling at once
    instead of after a ~700-step plateau, and reached in 1,000 steps what took 1,450 without.
  - batch norm momentum 0.9 rather than ResNet's 0.997, so that the moving statistics the model
    is evaluated with catch up within the few hundred steps of a quickstart run.
"""

import keras

WIDTHS = (32, 64, 128, 256)  # one unit per stage; stages 2–4 halve the resolution
BN_MOMENTUM = 0.9


@keras.saving.register_keras_serializable(package="hmr_tf")
class AddCoordinates(keras.layers.Layer):
  """Appends x and y, each from -1 to 1 across the image: [B, H, W, C] -> [B, H, W, C + 2]."""

  def call(self, images):
    shape = keras.ops.shape(images)
    ys, xs = keras.ops.meshgrid(keras.ops.linspace(-1.0, 1.0, shape[1]),
                                keras.ops.linspace(-1.0, 1.0, shape[2]), indexing="ij")
    grid = keras.ops.cast(keras.ops.stack([xs, ys], axis=-1), images.dtype)
    grid = keras.ops.broadcast_to(grid[None], (shape[0], shape[1], shape[2], 2))
    return keras.ops.concatenate([images, grid], axis=-1)


def _batch_norm(name):
  return keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=name)


def _basic_unit(x, width, stride, name):
  """Pre-activation unit of two 3×3 convs: [B, H, W, C] -> [B, H/stride, W/stride, width]."""
  preact = _batch_norm(f"{name}_preact_bn")(x)
  preact = keras.layers.Activation("relu", name=f"{name}_preact_relu")(preact)
  if stride > 1 or x.shape[-1] != width:
    shortcut = keras.layers.Conv2D(width, 1, strides=stride, name=f"{name}_0_conv")(preact)
  else:
    shortcut = x
  y = keras.layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False,
                          name=f"{name}_1_conv")(preact)
  y = _batch_norm(f"{name}_1_bn")(y)
  y = keras.layers.Activation("relu", name=f"{name}_1_relu")(y)
  y = keras.layers.Conv2D(width, 3, padding="same", name=f"{name}_2_conv")(y)
  return keras.layers.Add(name=f"{name}_out")([shortcut, y])


def small_resnet(image_size, name="small"):
  """images [B, S, S, 3] in [-1, 1] -> [B, 256] global-pooled features.

  Args:
    image_size: S; the stem halves it and stages 2–4 halve it again (S/16 at the end).
    name: the keras.Model's name.
  """
  images = keras.Input((image_size, image_size, 3), name="images")
  x = AddCoordinates(name="coordinates")(images)
  x = keras.layers.Conv2D(WIDTHS[0], 3, strides=2, padding="same", name="stem_conv")(x)
  for stage, width in enumerate(WIDTHS, start=1):
    x = _basic_unit(x, width, 1 if stage == 1 else 2, f"stage{stage}")
  x = _batch_norm("post_bn")(x)
  x = keras.layers.Activation("relu", name="post_relu")(x)
  features = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
  return keras.Model(images, features, name=name)
