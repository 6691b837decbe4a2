"""HMR's augmentation: a jittered, scaled, sometimes mirrored crop of a stored person.

A stored example is a crop spanning schema.REFERENCE_SIZE reference pixels, in which the
person is about 150 reference px tall, centred at crop/center (hmr_tf/data/schema.py).
Training cuts a window of CROP_SIZE / scale reference pixels around that centre moved by a
random shift, resizes it to the model's image size and mirrors it half of the time (anchors
§1.5, src/data_loader.py: shift U[-20, 20] px of the stored image, applied before the scale
U[0.8, 1.23]; a 224 px window of the scaled image; flip p = 0.5). Converted datasets store
one pixel per reference pixel; the synthetic world stores fewer, and every size here is scaled
by the stored width / REFERENCE_SIZE. The window is snapped to whole stored pixels and the
labels follow the window actually used, so they stay exact. Where a window leaves the stored
image, the image's edge pixels repeat (HMR's pad_image_edge); the stored margin is sized so
that HMR's own ranges never need it. Labelled keypoints stay labelled wherever they fall,
beyond ±1 outside the window, as HMR's loss sees them.

Conventions: integer pixel coordinates are pixel centres; keypoints come out in [-1, 1] of the
output crop, (-1, -1) being the outer corner of its top-left pixel; images in [-1, 1].

Randomness is stateless: each example is augmented from its own seed [2], so equal seeds give
equal outputs whatever the parallelism of the Dataset.map that runs these functions.
"""

import tensorflow as tf

from hmr_tf import joints
from hmr_tf.data import schema

CROP_SIZE = 224  # px: HMR's crop; the person fills it as in the paper at scale 1
SCALE_RANGE = (0.8, 1.23)  # HMR's scale_min, scale_max
MAX_SHIFT = 20.0  # reference px, before scaling: HMR's trans_max
FLIP_PROBABILITY = 0.5

_KEYPOINT_FLIP = joints.flip_permutation(joints.COCOPLUS_19)
_JOINT_3D_FLIP = joints.flip_permutation(joints.LSP_14)
_POSE_FLIP = joints.flip_permutation(joints.SMPL_24)
# Mirroring x maps a rotation R to M R M, M = diag(-1, 1, 1), whose axis-angle is (x, -y, -z).
_AXIS_ANGLE_MIRROR = (1.0, -1.0, -1.0)


def flip_keypoints2d(keypoints):
  """Mirrors normalised keypoints about the crop's vertical axis and swaps left and right.

  Args:
    keypoints: [..., 19, 3] cocoplus (x, y, visibility), x in [-1, 1].

  Returns:
    [..., 19, 3].
  """
  return tf.gather(keypoints, _KEYPOINT_FLIP, axis=-2) * [-1.0, 1.0, 1.0]


def flip_keypoints3d(keypoints3d):
  """Mirrors camera-frame joints (x -> -x) and swaps left and right. [..., 14, 3] -> same."""
  return tf.gather(keypoints3d, _JOINT_3D_FLIP, axis=-2) * [-1.0, 1.0, 1.0]


def flip_pose(pose):
  """The SMPL pose of the mirrored body: left/right joints swapped, every rotation mirrored.

  The root is mirrored too, so SMPL(flip_pose(pose)) is SMPL(pose) with x -> -x.

  Args:
    pose: [..., 72] axis-angle, 24 joints × 3, root first.

  Returns:
    [..., 72].
  """
  per_joint = tf.reshape(pose, tf.concat([tf.shape(pose)[:-1], [len(_POSE_FLIP), 3]], 0))
  mirrored = tf.gather(per_joint, _POSE_FLIP, axis=-2) * _AXIS_ANGLE_MIRROR
  return tf.reshape(mirrored, tf.shape(pose))


def random_transform(seed, scale_range=SCALE_RANGE, max_shift=MAX_SHIFT,
                     flip_probability=FLIP_PROBABILITY):
  """HMR's random crop parameters for one example.

  Args:
    seed: [2] integer seed of the stateless random ops.
    scale_range: (min, max) of the uniform scale; > 1 zooms in.
    max_shift: the window's centre moves by U[-max_shift, max_shift] reference px.
    flip_probability: chance of mirroring.

  Returns:
    A dict with "scale" [], "shift" [2] (x, y) and "flip" [] bool, the arguments of
    crop_example.
  """
  uniform = tf.random.stateless_uniform([4], seed)
  low, high = scale_range
  return {"scale": low + (high - low) * uniform[0],
          "shift": max_shift * (2.0 * uniform[1:3] - 1.0),
          "flip": uniform[3] < flip_probability}


def crop_window(center, scale=1.0, shift=(0.0, 0.0), pixel_scale=1.0):
  """The square of stored pixels that becomes the crop.

  Args:
    center: [2] person centre (x, y) in stored pixels.
    scale: [] zoom; the window is CROP_SIZE / scale reference pixels wide.
    shift: [2] move of the window's centre in reference pixels: HMR moves the centre before
      it scales the image, so the move does not depend on the scale.
    pixel_scale: [] stored pixels per reference pixel (stored width / REFERENCE_SIZE).

  Returns:
    corner [2] (x, y) of the window's first pixel and size [], both whole numbers (float32).
  """
  size = tf.maximum(tf.round(CROP_SIZE * pixel_scale / scale), 1.0)
  centre = center + tf.convert_to_tensor(shift, tf.float32) * pixel_scale
  return tf.round(centre - (size - 1.0) / 2.0), size


def _decode_window(jpeg, corner, size):
  """[size, size, 3] uint8: the window of a JPEG image, the image's edge pixels repeated where
  it leaves the image.

  Only the part inside the image is decoded (decode_and_crop_jpeg skips the rest). Where the
  window leaves the image, each of its pixels then takes the nearest decoded pixel: itself
  inside the image, an edge pixel beyond it. (The stored margin keeps HMR's windows inside,
  where this costs nothing; the gathers would cost as much as the decoding.)
  """
  corner = tf.cast(corner[::-1], tf.int32)  # (y, x) from here on
  size = tf.cast(size, tf.int32)
  image_size = tf.image.extract_jpeg_shape(jpeg)[:2]
  # At least the nearest pixel of the image, even for a window that misses it.
  low = tf.clip_by_value(corner, 0, image_size - 1)
  high = tf.clip_by_value(corner + size, low + 1, image_size)
  inside = tf.io.decode_and_crop_jpeg(jpeg, tf.concat([low, high - low], 0), channels=3)

  def nearest(axis):
    return tf.clip_by_value(tf.range(size) + corner[axis] - low[axis], 0,
                            high[axis] - low[axis] - 1)

  def edge_padded():
    return tf.gather(tf.gather(inside, nearest(0), axis=0), nearest(1), axis=1)
  fits = tf.reduce_all((low == corner) & (high == corner + size))
  return tf.cond(fits, lambda: inside, edge_padded)


def _keypoints_in_window(keypoints, corner, size):
  """[19, 3] stored pixels -> [-1, 1] of the window (beyond it outside); missing ones zero."""
  xy = (keypoints[:, :2] - corner + 0.5) * (2.0 / size) - 1.0
  visibility = tf.cast(keypoints[:, 2:] > 0, tf.float32)
  return tf.concat([xy * visibility, visibility], axis=-1)


def crop_example(example, image_size, scale=1.0, shift=(0.0, 0.0), flip=False):
  """The model's inputs from one parsed example, cropped as given (no randomness).

  With the defaults this is the evaluation crop: CROP_SIZE reference pixels around the centre.

  Args:
    example: one example from schema.parse_person.
    image_size: side S of the output image in pixels.
    scale, shift: see crop_window.
    flip: [] bool, mirror the image and every label.

  Returns:
    A dict with "image" [S, S, 3] float32 in [-1, 1], "keypoints2d" [19, 3] in [-1, 1] of the
    crop (beyond ±1 outside it), "keypoints3d" [14, 3], "pose" [72], "shape" [10], "has_3d",
    "has_smpl", "root_relative" and "universal" [] (float32 0/1; the last two say what
    keypoints3d are: schema.py), and the example's "dataset" and "image_id".
  """
  flip = tf.convert_to_tensor(flip, tf.bool)
  pixel_scale = tf.cast(example["image/width"], tf.float32) / schema.REFERENCE_SIZE
  corner, size = crop_window(example["crop/center"], scale, shift, pixel_scale)
  window = _decode_window(example["image/encoded"], corner, size)
  keypoints2d = _keypoints_in_window(example["keypoints2d"], corner, size)
  keypoints3d, pose = example["keypoints3d"], example["smpl/pose"]
  # Mirror the small uint8 window before the resize makes it float.
  window = tf.cond(flip, lambda: tf.reverse(window, [1]), lambda: window)
  image = tf.image.resize(window, [image_size, image_size])
  return {
      "image": image * (2.0 / 255.0) - 1.0,
      "keypoints2d": tf.where(flip, flip_keypoints2d(keypoints2d), keypoints2d),
      "keypoints3d": tf.where(flip, flip_keypoints3d(keypoints3d), keypoints3d),
      "pose": tf.where(flip, flip_pose(pose), pose),
      "shape": example["smpl/shape"],
      "has_3d": tf.cast(example["has_3d"], tf.float32),
      "has_smpl": tf.cast(example["has_smpl"], tf.float32),
      "root_relative": tf.cast(example["keypoints3d/root_relative"], tf.float32),
      "universal": tf.cast(example["keypoints3d/universal"], tf.float32),
      "dataset": example["dataset"],
      "image_id": example["image_id"],
  }


def color_jitter(image, seed, strength):
  """Random brightness, contrast and saturation, each a factor in U[1 - strength, 1 + strength].

  Brightness scales the image, contrast blends it with its mean grey, saturation with its own
  grey image (torchvision's definitions: plain blends, much cheaper than tf.image's HSV round
  trip).

  Args:
    image: [S, S, 3] float in [-1, 1].
    seed: [2] integer seed.
    strength: in [0, 1].

  Returns:
    [S, S, 3] float in [-1, 1].
  """
  brightness, contrast, saturation = tf.unstack(
      tf.random.stateless_uniform([3], seed, 1.0 - strength, 1.0 + strength))
  image = (image + 1.0) * (0.5 * brightness)  # [0, 1] before the factor
  grey = tf.image.rgb_to_grayscale(image)  # [S, S, 1]
  image = grey + saturation * (image - grey)
  mean = tf.reduce_mean(grey)
  image = mean + contrast * (image - mean)
  return tf.clip_by_value(image, 0.0, 1.0) * 2.0 - 1.0


def augment(example, seed, image_size, scale_range=SCALE_RANGE, max_shift=MAX_SHIFT,
            flip_probability=FLIP_PROBABILITY, color_strength=0.0):
  """HMR's training augmentation of one parsed example (see the module docstring).

  Args:
    example: one example from schema.parse_person.
    seed: [2] integer seed; the same seed gives the same output.
    image_size: side S of the output image in pixels.
    scale_range, max_shift, flip_probability: see random_transform.
    color_strength: colour jitter (see color_jitter); 0 (the paper) turns it off.

  Returns:
    crop_example's dict.
  """
  transform_seed, color_seed = tf.unstack(tf.random.split(seed, 2))
  out = crop_example(example, image_size, **random_transform(
      transform_seed, scale_range, max_shift, flip_probability))
  if color_strength:
    out["image"] = color_jitter(out["image"], color_seed, color_strength)
  return out
