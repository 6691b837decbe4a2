"""Scale and crop a person the way HMR's converters do, then build the stored example.

HMR's converters (src/datasets/*_to_tfrecords.py) rescale each image so that the person has a
set size (person_scale.py: each dataset's rule), and keep a margin around the person so that
the training-time augmentation (scale 0.8-1.23, a 20 px shift, a 224 px window) finds image
there: the stored crop spans schema.REFERENCE_SIZE px, sized for the widest window shifted
the furthest. Where the crop reaches beyond the source image it is filled by replicating the
image's edge pixels, as HMR's data_loader pads (pad_image_edge): no black borders. Keypoints
keep their labels wherever they fall, inside the crop or not, as HMR's records do.

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
from hmr_tf.data import schema
from hmr_tf.data.shards import SkipExample
from hmr_tf.datasets import person_scale

MARGIN = schema.REFERENCE_SIZE // 2  # px kept on each side of the person's centre
JPEG_QUALITY = 95


def read_image(path):
  """RGB uint8 image; checks.MissingFile, or checks.BadInput naming the file (empty, not an
  image, larger than checks.MAX_IMAGE_PIXELS)."""
  if not os.path.isfile(path):
    raise checks.MissingFile(f"image file not found: {path}")
  return decode_image(np.fromfile(path, np.uint8), path)


def decode_image(data, where):
  """RGB uint8 image from encoded bytes (a uint8 array or bytes); checks.BadInput naming
  `where` as read_image does."""
  data = np.frombuffer(data, np.uint8) if isinstance(data, bytes) else data
  width, height = _declared_size(data, where)
  checks.declared_size(width * height, f"an image of {width}×{height}", where,
                       limit=checks.MAX_IMAGE_PIXELS, unit="pixels")
  try:
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
  except cv2.error as error:
    raise checks.BadInput(f"{where}: not a readable image ({error})") from None
  if image is None or image.shape[:2] != (height, width):
    raise checks.BadInput(f"{where}: not a readable image (its header says {width}×{height})")
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


def crop(image, center, scale, margin=MARGIN):
  """Rescales `image` by `scale` and cuts the [2·margin]² square around `center`; where the
  square leaves the image, the image's edge pixels are repeated (HMR's pad_image_edge).

  Returns:
    crop [2·margin, 2·margin, 3] uint8, and offset [2]: where the crop's (0, 0) lies in the
    rescaled image, so that a source point p maps to p·scale − offset.
  """
  height, width = image.shape[:2]
  new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
  interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
  resized = cv2.resize(image, new_size, interpolation=interpolation)
  offset = np.round(np.asarray(center) * scale).astype(int) - margin
  # Each crop pixel takes the nearest pixel of the resized image: itself where it is inside.
  columns, rows = (np.clip(np.arange(o, o + 2 * margin), 0, n - 1)
                   for o, n in zip(offset, new_size))
  return resized.take(rows, axis=0).take(columns, axis=1), offset.astype(np.float32)


def encode_jpeg(image):
  ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                          [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
  if not ok:
    raise ValueError("JPEG encoding failed")
  return data.tobytes()


def person_example(image, keypoints2d, dataset, image_id, keypoints3d=None, pose=None,
                   shape=None, intrinsics=None, center=None, scale=None, root_relative=False,
                   universal=False):
  """The stored tf.train.Example of one person: rescaled, cropped, labels moved along.

  Args:
    image: [H, W, 3] uint8 RGB source image.
    keypoints2d: [19, 3] cocoplus (x, y, visibility) in source pixels, visibility 0 or 1.
    dataset, image_id: names stored with the example.
    keypoints3d: optional [14, 3] LSP joints, metres, camera frame (or pelvis-relative, see
      root_relative).
    pose, shape: optional SMPL [72] and [10], camera frame.
    intrinsics: optional (fx, fy, cx, cy) of the source image.
    center, scale: the crop's centre in source pixels and stored pixels per source pixel
      (person_scale's rules); default: person_scale.diagonal.
    root_relative, universal: what keypoints3d are (schema.PersonExample).
  """
  keypoints2d = checks.array(keypoints2d, (schema.NUM_KEYPOINTS, 3), "keypoints2d", image_id)
  if center is None or scale is None:
    center, scale = person_scale.diagonal(keypoints2d)
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
  moved[:, 2] = moved[:, 2] > 0
  moved[moved[:, 2] == 0, :2] = 0.0
  size = cropped.shape[0]
  inside = np.all((moved[:, :2] >= 0) & (moved[:, :2] <= size - 1), axis=1)
  # A person given by a box alone (3DPW's npz: SMPL labels, no 2D keypoints) is kept.
  if moved[:, 2].any() and not (inside & (moved[:, 2] > 0)).any():
    raise SkipExample("no labelled keypoints inside the crop")
  if intrinsics is not None:
    fx, fy, cx, cy = intrinsics
    intrinsics = [fx * scale, fy * scale, cx * scale - offset[0], cy * scale - offset[1]]
  return schema.person_example(schema.PersonExample(
      jpeg=encode_jpeg(cropped), height=size, width=size, keypoints2d=moved, dataset=dataset,
      image_id=image_id, center=np.asarray(center) * scale - offset, scale=scale, offset=offset,
      keypoints3d=keypoints3d, pose=pose, shape=shape, intrinsics=intrinsics,
      root_relative=root_relative, universal=universal))
