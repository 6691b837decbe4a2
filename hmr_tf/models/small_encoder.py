"""A small pre-activation ResNet for CPU runs on small images (the quickstart's encoder).

Why this one: it is ResNet-50 v2's recipe shrunk (the same pre-activation units, batch norm
and global mean pool, so it trains with the same losses, learning rates and synchronized BN),
with four stages of two 3×3 convolutions each at 32–256 channels, 1.2 M parameters. At 64–96 px
it runs an order of magnitude or more faster than ResNet-50 v2 (README, "Models"). Its batch
norm uses momentum 0.9 rather than ResNet's 0.997, so that the moving statistics the model is
evaluated with catch up within the few hundred steps of a quickstart run.
"""

import keras

WIDTHS = (32, 64, 128, 256)  # one unit per stage; stages 2–4 halve the resolution
BN_MOMENTUM = 0.9


def _batch_norm(name, synchronized):
  return keras.layers.BatchNormalization(momentum=BN_MOMENTUM, synchronized=synchronized,
                                         name=name)


def _basic_unit(x, width, stride, name, synchronized):
  """Pre-activation unit of two 3×3 convs: [B, H, W, C] -> [B, H/stride, W/stride, width]."""
  preact = _batch_norm(f"{name}_preact_bn", synchronized)(x)
  preact = keras.layers.Activation("relu", name=f"{name}_preact_relu")(preact)
  if stride > 1 or x.shape[-1] != width:
    shortcut = keras.layers.Conv2D(width, 1, strides=stride, name=f"{name}_0_conv")(preact)
  else:
    shortcut = x
  y = keras.layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False,
                          name=f"{name}_1_conv")(preact)
  y = _batch_norm(f"{name}_1_bn", synchronized)(y)
  y = keras.layers.Activation("relu", name=f"{name}_1_relu")(y)
  y = keras.layers.Conv2D(width, 3, padding="same", name=f"{name}_2_conv")(y)
  return keras.layers.Add(name=f"{name}_out")([shortcut, y])


def small_resnet(image_size, synchronized=False, name="small"):
  """images [B, S, S, 3] in [-1, 1] -> [B, 256] global-pooled features.

  Args:
    image_size: S; the stem halves it and stages 2–4 halve it again (S/16 at the end).
    synchronized: make every BatchNormalization synchronized across replicas.
    name: the keras.Model's name.
  """
  images = keras.Input((image_size, image_size, 3), name="images")
  x = keras.layers.Conv2D(WIDTHS[0], 3, strides=2, padding="same", name="stem_conv")(images)
  for stage, width in enumerate(WIDTHS, start=1):
    x = _basic_unit(x, width, 1 if stage == 1 else 2, f"stage{stage}", synchronized)
  x = _batch_norm("post_bn", synchronized)(x)
  x = keras.layers.Activation("relu", name="post_relu")(x)
  features = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
  return keras.Model(images, features, name=name)
