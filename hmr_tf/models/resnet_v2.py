"""ResNet-50 v2 laid out as slim's resnet_v2_50, named as keras.applications.ResNet50V2.

HMR's encoder is slim's `resnet_v2_50` (tf_slim/nets/resnet_v2.py, resnet_utils.py) under
`resnet_arg_scope()`, global-pooled, without logits. The authors' released checkpoint is ported
onto this network (issue 9), so it follows slim exactly. Its layers carry the names of
keras.applications.ResNet50V2 so that Keras's ImageNet weights load by name.

Where slim and keras.applications.ResNet50V2 differ, this network does as slim:
  - pool1: slim max-pools 3×3/2 with SAME padding (resnet_arg_scope sets it), which pads
    nothing before and one pixel after an even-sized input, and pads with −∞ (a pad never
    wins the max). Keras pads one pixel of zeros on both sides ("pool1_pad") and pools VALID:
    the windows are shifted by a pixel, and since conv1 has no ReLU before pool1 in a v2
    network, a zero pad beats every negative border value. Here: one MaxPooling2D "pool1_pool"
    with padding="same"; there is no "pool1_pad" layer.
  - Batch norm: slim's resnet_arg_scope uses epsilon 1e-5 and decay 0.997; Keras's
    ResNet50V2 uses epsilon 1.001e-5 and momentum 0.99. Here 1e-5 and 0.997 (γ kept, as
    slim's batch_norm_scale=True). Keras updates the moving variance with the biased batch
    variance; slim's fused kernel (where slim uses it) with the Bessel-corrected one. That
    touches only the moving averages during training, never a forward pass with given weights.
  - The subsampling shortcut (identity units with stride 2) is a 1×1 max-pool in both; slim's
    is padded SAME, which for a 1×1 window is the same as VALID. Here it is named
    "<unit>_0_pool" (Keras leaves it unnamed, "max_pooling2d_N").
The rest is the same in both and follows slim here:
  - conv1: 7×7/2, 64 filters, with bias and no BN/ReLU (the first unit's preactivation does
    that), padded by slim's conv2d_same: 3 pixels of zeros on each side, then VALID ("conv1_pad"
    is that explicit pad).
  - Bottleneck units (pre-activation): BN-ReLU "preact", then 1×1 conv (no bias) BN-ReLU, 3×3
    conv (no bias) BN-ReLU, 1×1 conv (with bias); the shortcut is a 1×1 conv with bias of the
    preactivation where the depth changes (each block's first unit), otherwise the input.
  - Strides on the LAST unit of blocks 1–3 (slim subsamples the output of each block; Keras
    puts stride1 on the last block of each stack): feature maps 56, 28, 14, 7, 7 at 224.
  - The strided 3×3 conv is slim's conv2d_same: one pixel of zeros on each side then VALID
    ("<unit>_2_pad"), which is also what a stride-1 SAME conv pads, so every unit has the pad.
  - "post_bn"/"post_relu" (slim's "postnorm") after the last block, then the global mean over
    space (slim's reduce_mean "pool5", here "avg_pool").
Weight layouts are the same ([kh, kw, in, out] kernels, γ/β/mean/variance vectors), so a slim
variable maps onto one Keras weight by name alone (see `SLIM_BLOCKS` for the unit names).
"""

import keras

# (keras stack name, slim block name, bottleneck depth, units, stride of the last unit)
SLIM_BLOCKS = (
    ("conv2", "block1", 64, 3, 2),
    ("conv3", "block2", 128, 4, 2),
    ("conv4", "block3", 256, 6, 2),
    ("conv5", "block4", 512, 3, 1),
)
EXPANSION = 4  # a unit's output depth is 4 × its bottleneck depth
BN_EPSILON = 1e-5  # slim resnet_arg_scope batch_norm_epsilon
BN_MOMENTUM = 0.997  # slim resnet_arg_scope batch_norm_decay, as HMR uses it


def _batch_norm(name, synchronized):
  return keras.layers.BatchNormalization(
      epsilon=BN_EPSILON, momentum=BN_MOMENTUM, synchronized=synchronized, name=name)


def _bottleneck(x, depth, stride, conv_shortcut, name, synchronized):
  """slim's bottleneck_v2 unit: [B, H, W, C] -> [B, H/stride, W/stride, 4·depth]."""
  preact = _batch_norm(f"{name}_preact_bn", synchronized)(x)
  preact = keras.layers.Activation("relu", name=f"{name}_preact_relu")(preact)
  if conv_shortcut:
    shortcut = keras.layers.Conv2D(EXPANSION * depth, 1, strides=stride,
                                   name=f"{name}_0_conv")(preact)
  elif stride > 1:
    shortcut = keras.layers.MaxPooling2D(1, strides=stride, name=f"{name}_0_pool")(x)
  else:
    shortcut = x
  y = keras.layers.Conv2D(depth, 1, use_bias=False, name=f"{name}_1_conv")(preact)
  y = _batch_norm(f"{name}_1_bn", synchronized)(y)
  y = keras.layers.Activation("relu", name=f"{name}_1_relu")(y)
  y = keras.layers.ZeroPadding2D(1, name=f"{name}_2_pad")(y)
  y = keras.layers.Conv2D(depth, 3, strides=stride, use_bias=False, name=f"{name}_2_conv")(y)
  y = _batch_norm(f"{name}_2_bn", synchronized)(y)
  y = keras.layers.Activation("relu", name=f"{name}_2_relu")(y)
  y = keras.layers.Conv2D(EXPANSION * depth, 1, name=f"{name}_3_conv")(y)
  return keras.layers.Add(name=f"{name}_out")([shortcut, y])


def resnet50_v2(image_size, synchronized=False, name="resnet50_v2"):
  """slim's resnet_v2_50, global-pooled: images [B, S, S, 3] in [-1, 1] -> [B, 2048].

  Args:
    image_size: S, the side of the square input (224 for HMR).
    synchronized: make every BatchNormalization synchronized across replicas.
    name: the keras.Model's name.
  """
  images = keras.Input((image_size, image_size, 3), name="images")
  x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(images)
  x = keras.layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
  x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool1_pool")(x)
  for stack, _, depth, units, stride in SLIM_BLOCKS:
    for unit in range(1, units + 1):
      x = _bottleneck(x, depth, stride if unit == units else 1, conv_shortcut=unit == 1,
                      name=f"{stack}_block{unit}", synchronized=synchronized)
  x = _batch_norm("post_bn", synchronized)(x)
  x = keras.layers.Activation("relu", name="post_relu")(x)
  features = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
  return keras.Model(images, features, name=name)
