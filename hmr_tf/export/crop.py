"""In-graph person crops for the exported signatures, and the way back to image pixels.

A person's crop is a square window of the image, given by its centre (x, y) and side m in
image pixels, resized to the model's S × S input. Two rules pick the window:
  - from a person box (x0, y0, x1, y1): the rule of the training data (hmr_tf.data.schema,
    augment.crop_example): the box's diagonal is PERSON_SIZE = 150 px of a CROP_SIZE = 224 px
    window centred on the box, so m = 224 / 150 · diagonal. The box is the person's tight box
    (of the visible keypoints, as HMR's converters and demo take it);
  - without a box, the original demo's rule (demo.py, preprocess_image): the image is the
    person's crop, centred, its longer side scaled to S.
Pixel coordinates put pixel centres at integers (as augment.py and hmr_tf.render do), so the
window spans [c − m/2, c + m/2] and the crop coordinate u ∈ [-1, 1] is the image point
c + u · m / 2.

The resize is bilinear, written with gather_nd (tf.image.crop_and_resize is not a TFLite
builtin: tf_facts.md §4), from a mipmap of the image for large windows (see `crop`). Outside
the image the crop is black, as the training crops are.

Symbols: N images, H × W image size, S crop size.
"""

import tensorflow as tf

from hmr_tf import geometry
from hmr_tf.data import augment
from hmr_tf.data import schema

WINDOW_PER_DIAGONAL = augment.CROP_SIZE / schema.PERSON_SIZE  # 224 / 150
MIPMAP_LEVELS = 5  # windows up to 2 · 2^5 = 64 crop sides are area-averaged


def box_windows(boxes):
  """The training data's person window around each box.

  Args:
    boxes: [N, 4] (x0, y0, x1, y1) image pixels.

  Returns:
    centers [N, 2] (x, y) and sizes [N] in image pixels.
  """
  boxes = tf.cast(boxes, tf.float32)
  low, high = boxes[:, :2], boxes[:, 2:]
  diagonal = tf.norm(high - low, axis=-1)
  return (low + high) / 2.0, WINDOW_PER_DIAGONAL * diagonal


def image_windows(images):
  """The original demo's window: each whole image, centred, its longer side.

  Args:
    images: [N, H, W, C].

  Returns:
    centers [N, 2] and sizes [N] as box_windows.
  """
  shape = tf.shape(images)
  batch = shape[0]
  height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
  center = tf.stack([(width - 1.0) / 2.0, (height - 1.0) / 2.0])
  return (tf.tile(center[None], [batch, 1]),
          tf.fill([batch], tf.maximum(height, width)))


def windows_to_boxes(centers, sizes):
  """centers [N, 2], sizes [N] -> [N, 4] (x0, y0, x1, y1): the windows' outer edges."""
  half = sizes[:, None] / 2.0
  return tf.concat([centers - half, centers + half], axis=-1)


def crop(images, centers, sizes, crop_size):
  """Crops of square windows resized to S × S, black outside the image.

  Bilinear sampling, from a mipmap: a window more than twice as large as the crop is sampled
  from the image averaged over 2^j × 2^j pixels, j the smallest level that brings it within
  2 S, so that large photos are shrunk by area averaging (as the training data's converters
  shrink them) rather than aliased.

  Args:
    images: [N, H, W, 3] uint8 (or any numeric dtype).
    centers: [N, 2] window centres (x, y), image pixels.
    sizes: [N] window sides, image pixels.
    crop_size: S (a Python int).

  Returns:
    [N, S, S, 3] float32 in [-1, 1].
  """
  images = tf.cast(images, tf.float32)
  octaves = tf.math.log(sizes / (2.0 * crop_size)) / tf.math.log(2.0)
  level = tf.clip_by_value(tf.math.ceil(octaves), 0.0, MIPMAP_LEVELS)  # [N]
  out = 0.0
  for j in range(MIPMAP_LEVELS + 1):
    if j:
      images = tf.nn.avg_pool2d(images, 2, 2, "SAME")  # pixel p covers 2p, 2p + 1 below
    scale = 2.0 ** j
    chosen = tf.cast(tf.equal(level, j), tf.float32)[:, None, None, None]
    out += chosen * bilinear_crop(images, (centers + 0.5) / scale - 0.5, sizes / scale,
                                  crop_size)
  return out * (2.0 / 255.0) - 1.0


def bilinear_crop(images, centers, sizes, crop_size):
  """Bilinear crops of square windows, zero outside the image.

  Args:
    images: [N, H, W, C] float32.
    centers: [N, 2] window centres (x, y), pixels.
    sizes: [N] window sides, pixels.
    crop_size: S (a Python int).

  Returns:
    [N, S, S, C] float32.
  """
  shape = tf.shape(images)
  batch, height, width = shape[0], shape[1], shape[2]
  # Where each output pixel's centre falls in the image, per axis: [N, S].
  steps = (tf.range(crop_size, dtype=tf.float32) + 0.5) / crop_size - 0.5
  xs = centers[:, :1] + sizes[:, None] * steps
  ys = centers[:, 1:] + sizes[:, None] * steps
  x0, y0 = tf.floor(xs), tf.floor(ys)
  grid = [batch, crop_size, crop_size]
  batch_index = tf.broadcast_to(tf.range(batch)[:, None, None], grid)
  out = 0.0
  for y, weight_y in ((y0, 1.0 - (ys - y0)), (y0 + 1.0, ys - y0)):
    for x, weight_x in ((x0, 1.0 - (xs - x0)), (x0 + 1.0, xs - x0)):
      rows = tf.broadcast_to(tf.cast(y, tf.int32)[:, :, None], grid)
      cols = tf.broadcast_to(tf.cast(x, tf.int32)[:, None, :], grid)
      inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
      index = tf.stack([batch_index, tf.clip_by_value(rows, 0, height - 1),
                        tf.clip_by_value(cols, 0, width - 1)], axis=-1)
      weight = weight_y[:, :, None] * weight_x[:, None, :] * tf.cast(inside, tf.float32)
      out += tf.gather_nd(images, index) * weight[..., None]
  return out


def to_image(points, centers, sizes):
  """Crop coordinates [N, K, 2] in [-1, 1] -> image pixels [N, K, 2] (x, y)."""
  return centers[:, None] + points * (sizes[:, None, None] / 2.0)


def full_image_translation(camera, centers, sizes, image_size, focal_length):
  """The perspective translation that puts the body where the crop's camera saw it.

  CLIFF's cam_crop_to_full for HMR's camera x̂ = s · (X + t): a pinhole camera of focal
  length f and principal point at the image centre p sees a point X (near the body's origin,
  shifted by T) at f / T_z · (X + T_xy) + p; the crop put it at c + s · m / 2 · (X + t). Equal
  for every X when T_z = 2f / (s · m) and T_xy = t + 2 (c − p) / (s · m): exact for points at
  the body's depth, the weak-perspective approximation elsewhere.

  Args:
    camera: [N, 3] (s, tx, ty) of the crop.
    centers, sizes: [N, 2], [N] the crop windows.
    image_size: [2] (height, width) of the image.
    focal_length: [] or [N] pixels.

  Returns:
    [N, 3] (T_x, T_y, T_z) metres, camera frame (x right, y down, z forward).
  """
  height, width = tf.unstack(tf.cast(image_size, tf.float32))
  principal = tf.stack([(width - 1.0) / 2.0, (height - 1.0) / 2.0])
  scale = camera[:, :1] * sizes[:, None] + 1e-9  # pixels per metre, ×2
  crop_translation = geometry.weak_perspective_to_translation(camera, focal_length, sizes)
  return crop_translation + tf.pad(2.0 * (centers - principal) / scale, [[0, 0], [0, 1]])


def default_focal_length(image_size):
  """The image diagonal in pixels (CLIFF's assumption for photos of unknown intrinsics)."""
  return tf.norm(tf.cast(image_size, tf.float32))
