"""The TFRecord example schemas (version 2): person crops with labels, and mocap poses.

Image examples hold one person each. The stored image is a square crop around the person that
spans REFERENCE_SIZE = 322 reference pixels at any resolution: converters store it at 322×322
(one pixel per reference pixel), the synthetic world at its own --image_size. In reference
pixels the person is about PERSON_SIZE = 150 tall (bounding-box diagonal, HMR's scale), and
the crop holds HMR's widest augmentation: a 224 / 0.8 = 280 px window whose centre moved by
20 px (data/augment.py). The input pipeline scales HMR's pixel sizes by width / REFERENCE_SIZE.
See datasets/README.md.

  image/encoded        bytes     JPEG
  image/height, width  int64
  keypoints2d          float[57] 19 cocoplus keypoints × (x, y, visibility), stored-image
                                 pixels, inside the image or not; missing joints have
                                 visibility 0 and x = y = 0
  keypoints3d          float[42] 14 LSP joints × (x, y, z), metres (zeros if none)
  keypoints3d/root_relative  int64  0: camera frame (projects with camera/intrinsics where
                                 known); 1: camera-frame axes but moved so that the pelvis
                                 (a dataset's root joint) is at the origin: where it stood is
                                 unknown
  keypoints3d/universal      int64  1: MPI-INF-3DHP's univ_annot3, the skeleton rescaled to a
                                 universal height (what its benchmark scores); 0: as measured
  smpl/pose            float[72] SMPL axis-angle, camera frame (zeros if none)
  smpl/shape           float[10] SMPL betas (zeros if none)
  has_3d, has_smpl     int64     1 where keypoints3d / SMPL parameters are ground truth
  dataset, image_id    bytes     dataset name and the source image's id (file name, frame)
  crop/center          float[2]  person centre in stored-image pixels
  crop/scale           float     stored pixels per source pixel
  crop/offset          float[2]  where the stored image's (0, 0) lies in the scaled source
  camera/intrinsics    float[4]  fx, fy, cx, cy in stored-image pixels (zeros if unknown)
  schema_version       int64

Mocap examples: pose float[72], shape float[10], source bytes, schema_version int64.

Version 2 (issue 11) added the keypoints3d flags, kept labelled keypoints outside the crop,
filled crops beyond the source image with its edge pixels, and grew REFERENCE_SIZE from 320;
shards of version 1 are refused (shards.read_info), to be converted again.
"""

import dataclasses
import functools

import numpy as np
import tensorflow as tf

from hmr_tf import checks
from hmr_tf import joints
from hmr_tf import theta

VERSION = 2
# Reference pixels spanned by a stored crop: 2 × (140 + 20 + 1). HMR's widest window is
# 224 / 0.8 = 280 px, half of it 140; its centre moves up to 20 px from the person's; one more
# pixel takes the rounding of centre and window to whole pixels (tests/test_augment.py).
REFERENCE_SIZE = 322
PERSON_SIZE = 150  # the person's bounding-box diagonal, in reference pixels (HMR)
NUM_KEYPOINTS = len(joints.COCOPLUS_19)  # 19
NUM_JOINTS_3D = len(joints.LSP_14)  # 14


@dataclasses.dataclass
class PersonExample:
  """One person crop with its labels, as stored (see the module docstring for units)."""

  jpeg: bytes
  height: int
  width: int
  keypoints2d: np.ndarray  # [19, 3]
  dataset: str
  image_id: str
  center: np.ndarray  # [2]
  scale: float
  offset: np.ndarray  # [2]
  keypoints3d: np.ndarray = None  # [14, 3] or None
  pose: np.ndarray = None  # [72] or None
  shape: np.ndarray = None  # [10] or None
  intrinsics: np.ndarray = None  # [4] or None
  root_relative: bool = False  # keypoints3d relative to the pelvis (module docstring)
  universal: bool = False  # keypoints3d are MPI-INF-3DHP's univ_annot3


def _floats(values):
  return tf.train.Feature(float_list=tf.train.FloatList(value=np.ravel(values).tolist()))


def _ints(values):
  return tf.train.Feature(int64_list=tf.train.Int64List(value=np.ravel(values).tolist()))


def _bytes(value):
  return tf.train.Feature(bytes_list=tf.train.BytesList(
      value=[value.encode("utf-8") if isinstance(value, str) else value]))


def _checked(name, value, shape, where):
  """`value` as finite float32 of `shape`, zeros where it is None; checks.BadInput naming
  `where` (the example) and the field."""
  if value is None:
    return np.zeros(shape, np.float32)
  return checks.array(value, shape, name, where, dtype=np.float32, finite=True)


def person_example(person: PersonExample) -> tf.train.Example:
  """Serialisable tf.train.Example for one person crop; checks.BadInput on a malformed field."""
  where = f"{person.dataset} {person.image_id}"
  checked = functools.partial(_checked, where=where)
  if (person.pose is None) != (person.shape is None):
    raise checks.BadInput(f"{where}: fields 'smpl/pose' and 'smpl/shape' come together; "
                          "found only one")
  features = {
      "image/encoded": _bytes(person.jpeg),
      "image/height": _ints(person.height),
      "image/width": _ints(person.width),
      "keypoints2d": _floats(checked("keypoints2d", person.keypoints2d, (NUM_KEYPOINTS, 3))),
      "keypoints3d": _floats(checked("keypoints3d", person.keypoints3d, (NUM_JOINTS_3D, 3))),
      "smpl/pose": _floats(checked("smpl/pose", person.pose, (theta.NUM_POSE,))),
      "smpl/shape": _floats(checked("smpl/shape", person.shape, (theta.NUM_SHAPE,))),
      "keypoints3d/root_relative": _ints(int(person.root_relative)),
      "keypoints3d/universal": _ints(int(person.universal)),
      "has_3d": _ints(int(person.keypoints3d is not None)),
      "has_smpl": _ints(int(person.pose is not None)),
      "dataset": _bytes(person.dataset),
      "image_id": _bytes(person.image_id),
      "crop/center": _floats(checked("crop/center", person.center, (2,))),
      "crop/scale": _floats(float(person.scale)),
      "crop/offset": _floats(checked("crop/offset", person.offset, (2,))),
      "camera/intrinsics": _floats(checked("camera/intrinsics", person.intrinsics, (4,))),
      "schema_version": _ints(VERSION),
  }
  return tf.train.Example(features=tf.train.Features(feature=features))


def mocap_example(pose, shape, source) -> tf.train.Example:
  """tf.train.Example for one mocap sample: SMPL pose [72] and shape [10]."""
  return tf.train.Example(features=tf.train.Features(feature={
      "pose": _floats(_checked("pose", pose, (theta.NUM_POSE,), source)),
      "shape": _floats(_checked("shape", shape, (theta.NUM_SHAPE,), source)),
      "source": _bytes(source),
      "schema_version": _ints(VERSION),
  }))


PERSON_FEATURES = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/height": tf.io.FixedLenFeature([], tf.int64),
    "image/width": tf.io.FixedLenFeature([], tf.int64),
    "keypoints2d": tf.io.FixedLenFeature([NUM_KEYPOINTS * 3], tf.float32),
    "keypoints3d": tf.io.FixedLenFeature([NUM_JOINTS_3D * 3], tf.float32),
    "keypoints3d/root_relative": tf.io.FixedLenFeature([], tf.int64),
    "keypoints3d/universal": tf.io.FixedLenFeature([], tf.int64),
    "smpl/pose": tf.io.FixedLenFeature([theta.NUM_POSE], tf.float32),
    "smpl/shape": tf.io.FixedLenFeature([theta.NUM_SHAPE], tf.float32),
    "has_3d": tf.io.FixedLenFeature([], tf.int64),
    "has_smpl": tf.io.FixedLenFeature([], tf.int64),
    "dataset": tf.io.FixedLenFeature([], tf.string),
    "image_id": tf.io.FixedLenFeature([], tf.string),
    "crop/center": tf.io.FixedLenFeature([2], tf.float32),
    "crop/scale": tf.io.FixedLenFeature([], tf.float32),
    "crop/offset": tf.io.FixedLenFeature([2], tf.float32),
    "camera/intrinsics": tf.io.FixedLenFeature([4], tf.float32),
    "schema_version": tf.io.FixedLenFeature([], tf.int64),
}

MOCAP_FEATURES = {
    "pose": tf.io.FixedLenFeature([theta.NUM_POSE], tf.float32),
    "shape": tf.io.FixedLenFeature([theta.NUM_SHAPE], tf.float32),
    "source": tf.io.FixedLenFeature([], tf.string),
    "schema_version": tf.io.FixedLenFeature([], tf.int64),
}


def parse_person(serialized):
  """Parses a batch or a single serialized person example; keypoints come back shaped."""
  parse = tf.io.parse_example if serialized.shape.rank else tf.io.parse_single_example
  features = parse(serialized, PERSON_FEATURES)
  leading = tf.shape(features["has_3d"])
  features["keypoints2d"] = tf.reshape(features["keypoints2d"],
                                       tf.concat([leading, [NUM_KEYPOINTS, 3]], 0))
  features["keypoints3d"] = tf.reshape(features["keypoints3d"],
                                       tf.concat([leading, [NUM_JOINTS_3D, 3]], 0))
  return features


def parse_mocap(serialized):
  """Parses a batch or a single serialized mocap example."""
  parse = tf.io.parse_example if serialized.shape.rank else tf.io.parse_single_example
  return parse(serialized, MOCAP_FEATURES)
