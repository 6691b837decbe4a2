"""Scale and crop a person the way HMR's converters do, then build the stored example.

HMR's converters (src/datasets/*_to_tfrecords.py) rescale each image so that the person is
about 150 px tall (from the visible keypoints' bounding box when an ankle is visible, else
from the torso, 75 px), and keep a margin around the person so that the training-time
augmentation (scale 0.8–1.23, translation ±20 px, a 224 px window) never runs out of pixels.
A 224 / 0.8 = 280 px window shifted by 20 px needs 160 px on each side of the centre.

Images are checked before they are decoded: an image whose header declares more than
checks.MAX_IMAGE_PIXELS pixels is refused, and so is a crop scale that would rescale the
source image beyond that size (an absurd person size).
"""

import io
import os
import warnings

import cv2
import numpy as np
from PIL import Image

from hmr_tf import checks
from hmr_tf import joints
from hmr_tf.data import schema
from hmr_tf.data.shards import SkipExample

TARGET_HEIGHT = float(schema.PERSON_SIZE)  # px: the person's bounding-box diagonal
TARGET_TORSO = TARGET_HEIGHT / 2  # px: shoulder-to-hip distance when the legs are not visible
MARGIN = schema.REFERENCE_SIZE // 2  # px kept on each side of the person's centre
JPEG_QUALITY = 95

_NAMES = joints.COCOPLUS_19
_ANKLES = _NAMES.indices(["left_ankle", "right_ankle"])
_SHOULDERS = _NAMES.indices(["left_shoulder", "right_shoulder"])
_HIPS = _NAMES.indices(["left_hip", "right_hip"])


def read_image(path):
  """RGB uint8 image; checks.MissingFile, or checks.BadInput naming the file (empty, not an
  image, larger than checks.MAX_IMAGE_PIXELS)."""
  if not os.path.isfile(path):
    raise checks.MissingFile(f"image file not found: {path}")
  data = np.fromfile(path, np.uint8)
  width, height = _declared_size(data, path)
  checks.declared_size(width * height, f"an image of {width}×{height}", path,
                       limit=checks.MAX_IMAGE_PIXELS, unit="pixels")
  try:
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
  except cv2.error as error:
    raise checks.BadInput(f"{path}: not a readable image ({error})") from None
  if image is None or image.shape[:2] != (height, width):
    raise checks.BadInput(f"{path}: not a readable image (its header says {width}×{height})")
  return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _declared_size(data, path):
  """(width, height) that an encoded image's header declares, read without decoding it."""
  if not data.size:
    raise checks.BadInput(f"{path}: empty file, not an image")
  try:
    with warnings.catch_warnings():  # PIL warns of large images; checks.MAX_IMAGE_PIXELS rules
      warnings.simplefilter("ignore", Image.DecompressionBombWarning)
      with Image.open(io.BytesIO(data.tobytes())) as image:
        return image.size
  except Image.DecompressionBombError as error:  # PIL's own, higher, limit
    raise checks.BadInput(f"{path}: more than the limit of {checks.MAX_IMAGE_PIXELS:,} pixels "
                          f"({error})") from None
  except (OSError, ValueError) as error:
    raise checks.BadInput(f"{path}: not a readable image ({error})") from None


def center_and_scale(keypoints2d):
  """HMR's rule: the person's centre and the factor that makes them ~150 px tall.

  Args:
    keypoints2d: [19, 3] cocoplus (x, y, visibility) in source-image pixels.

  Returns:
    center [2] in source pixels, scale (stored pixels per source pixel).
  """
  visible = keypoints2d[:, 2] > 0
  if not visible.any():
    raise SkipExample("no visible keypoints")
  points = keypoints2d[visible, :2]
  low, high = points.min(axis=0), points.max(axis=0)
  center = (low + high) / 2
  diagonal = np.linalg.norm(high - low)
  if visible[_ANKLES].any() and diagonal > 0:
    return center, TARGET_HEIGHT / diagonal
  if visible[_SHOULDERS].all() and visible[_HIPS].all():
    torso = np.linalg.norm(keypoints2d[_SHOULDERS, :2].mean(0) - keypoints2d[_HIPS, :2].mean(0))
    if torso > 0:
      return center, TARGET_TORSO / torso
  if diagonal == 0:
    raise SkipExample("keypoints span no area")
  return center, TARGET_HEIGHT / diagonal


def crop(image, center, scale, margin=MARGIN):
  """Rescales `image` by `scale` and cuts the [2·margin]² square around `center` (zero padded).

  Returns:
    crop [2·margin, 2·margin, 3] uint8, and offset [2]: where the crop's (0, 0) lies in the
    rescaled image, so that a source point p maps to p·scale − offset.
  """
  height, width = image.shape[:2]
  new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
  interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
  resized = cv2.resize(image, new_size, interpolation=interpolation)
  offset = np.round(np.asarray(center) * scale).astype(int) - margin
  size = 2 * margin
  out = np.zeros((size, size, 3), np.uint8)
  # Intersection of the window [offset, offset + size) with the resized image.
  src_lo = np.maximum(offset, 0)
  src_hi = np.minimum(offset + size, [resized.shape[1], resized.shape[0]])
  if np.all(src_hi > src_lo):
    dst_lo = src_lo - offset
    dst_hi = dst_lo + (src_hi - src_lo)
    out[dst_lo[1]:dst_hi[1], dst_lo[0]:dst_hi[0]] = resized[src_lo[1]:src_hi[1],
                                                            src_lo[0]:src_hi[0]]
  return out, offset.astype(np.float32)


def encode_jpeg(image):
  ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                          [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
  if not ok:
    raise ValueError("JPEG encoding failed")
  return data.tobytes()


def person_example(image, keypoints2d, dataset, image_id, keypoints3d=None, pose=None,
                   shape=None, intrinsics=None, center=None, scale=None):
  """The stored tf.train.Example of one person: rescaled, cropped, labels moved along.

  Args:
    image: [H, W, 3] uint8 RGB source image.
    keypoints2d: [19, 3] cocoplus (x, y, visibility) in source pixels, visibility 0 or 1.
    dataset, image_id: names stored with the example.
    keypoints3d: optional [14, 3] LSP joints, metres, camera frame.
    pose, shape: optional SMPL [72] and [10], camera frame.
    intrinsics: optional (fx, fy, cx, cy) of the source image.
    center, scale: override HMR's rule (e.g. from a dataset's own bounding box).
  """
  keypoints2d = checks.array(keypoints2d, (schema.NUM_KEYPOINTS, 3), "keypoints2d", image_id)
  if center is None or scale is None:
    center, scale = center_and_scale(keypoints2d)
  height, width = image.shape[:2]
  if not (np.all(np.isfinite(center)) and 0 < scale < np.inf):
    raise checks.BadInput(f"{image_id}: expected a finite crop centre and a positive scale, "
                          f"found {center} and {scale}")
  checks.declared_size(width * height * scale ** 2,
                       f"a crop scale of {scale:.3g} (the person's size) for a {width}×{height} "
                       "image, rescaled,", image_id, limit=checks.MAX_IMAGE_PIXELS, unit="pixels")
  cropped, offset = crop(image, center, scale)
  moved = keypoints2d.copy()
  moved[:, :2] = moved[:, :2] * scale - offset
  size = cropped.shape[0]
  inside = np.all((moved[:, :2] >= 0) & (moved[:, :2] <= size - 1), axis=1)
  moved[:, 2] = (moved[:, 2] > 0) & inside
  moved[moved[:, 2] == 0, :2] = 0.0
  # A person given by a box alone (3DPW's npz: SMPL labels, no 2D keypoints) is kept.
  if keypoints2d[:, 2].any() and not moved[:, 2].any():
    raise SkipExample("no visible keypoints inside the crop")
  if intrinsics is not None:
    fx, fy, cx, cy = intrinsics
    intrinsics = [fx * scale, fy * scale, cx * scale - offset[0], cy * scale - offset[1]]
  return schema.person_example(schema.PersonExample(
      jpeg=encode_jpeg(cropped), height=size, width=size, keypoints2d=moved, dataset=dataset,
      image_id=image_id, center=np.asarray(center) * scale - offset, scale=scale, offset=offset,
      keypoints3d=keypoints3d, pose=pose, shape=shape, intrinsics=intrinsics))
