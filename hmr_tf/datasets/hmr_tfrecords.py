"""The original's TFRecords, HMR's and russoale/hmr2.0's: person records and mocap records.

  hmr-convert hmr_tfrecords --input DIR --output datasets/NAME

Every *.tfrecord under DIR (recursively) is read by the features of its first record:

  HMR's person records (akanazawa/hmr src/datasets/common.py, convert_to_example[_wmosh]):
    image/encoded      JPEG of the image as the converter scaled and cropped it
    image/center       int64[2] the labelled keypoints' box centre (x, y), image pixels
    image/x, image/y   float[14] LSP joints; image/visibility int64[14], > 0 where labelled
    image/face_pts     float[15] (optional): COCO's face points in COCO's order (nose, eyes,
                       ears, left first), as x[5], y[5], visibility[5]
    image/filename     the source image's name
    and in the 3D sets: mosh/gt3d float[42] 14 LSP joints (metres), mosh/pose float[72],
    mosh/shape float[10], meta/has_3d int64 (1 where pose and shape are ground truth),
    image/cam float[3] (f, px, py) in image pixels.
  russoale/hmr2.0's person records (datasets_preprocessing/converter/tfrecord_converter.py):
    image_raw (JPEG), keypoints_2d float[57] (19 × (x, y, visibility), the order above),
    keypoints_3d float[42] (14 LSP joints), has_3d int64, sequence (test sets' sequence name).
  mocap records of either (HMR's neutrSMPL_<name>_<n>.tfrecord, russoale's <n>_train.tfrecord):
    pose float[72], shape float[10]. A folder of these converts as `hmr-convert mocap` reads
    them (a mocap dataset: hmr_tf.datasets.mocap); one folder holds one kind.

Both originals' converters already scaled each person to HMR's size (person_scale.py), and
their records are what HMR and russoale trained on: a person record is kept at that scale (one
stored pixel per reference pixel) and cut to the schema's crop around the person's centre,
HMR's image/center or, for russoale's records, which have none, the centre of the labelled
keypoints' box (what russoale's loader crops around); the image's edge pixels repeat beyond
it. Labels move along: the 19 keypoints by name into cocoplus order (the ears swap places),
3D joints in metres (russoale's in millimetres, told by size, are divided by 1000) and flagged
root-relative where their hips lie at the origin (person_item.is_root_relative), HMR's camera
(f, px, py) as intrinsics.

Splits: the split word (train, val, test) in a file's name, else in a folder's on its path
(HMR's Human3.6M records: tf_records_human36m_wjoints/train/*.tfrecord). Each example's dataset
is the record's first folder under DIR (HMR's layout has one per dataset: lsp, mpii, coco,
mpi_inf_3dhp, …) or DIR's own name; its image_id is "<file>:<record>[:<name>]".
"""

import dataclasses
import functools
import os
import re

from google.protobuf import message
import numpy as np
import tensorflow as tf

from hmr_tf import checks
from hmr_tf import joints
from hmr_tf.data.shards import SkipExample
from hmr_tf.datasets import mocap
from hmr_tf.datasets import person_crop
from hmr_tf.datasets import person_item
from hmr_tf.datasets import spin_npz

KIND = "person"  # or "mocap", for a folder of mocap records: see contents()
SPLITS = ("train", "val", "test")
SOURCE_JOINTS = joints.COCOPLUS_19

_LSP = len(joints.LSP_14)
_FACE = len(SOURCE_JOINTS) - _LSP
# What tells each layout, in the first record's features.
_LAYOUTS = {"hmr": {"image/encoded", "image/x"}, "russoale": {"image_raw", "keypoints_2d"},
            "mocap": {"pose", "shape"}}


@dataclasses.dataclass(frozen=True)
class Record:
  """One person record: where it is, and how to read it."""

  path: str
  index: int  # the record's place in its file
  layout: str  # "hmr" or "russoale"
  source: str  # the file relative to the input folder
  dataset: str


def _first_features(path):
  """The feature names of a file's first record; None for a file without records."""
  try:
    first = next(tf.data.TFRecordDataset(path).take(1).as_numpy_iterator(), None)
    return None if first is None else set(tf.train.Example.FromString(first).features.feature)
  except (tf.errors.OpError, message.DecodeError) as error:
    raise checks.BadInput(f"{path}: not a readable TFRecord file of tf.train.Examples "
                          f"({error})") from error


def _layout(path):
  """"hmr", "russoale" or "mocap"; None for an empty file; BadInput for any other records."""
  features = _first_features(path)
  if features is None:
    return None
  for layout, keys in _LAYOUTS.items():
    if keys <= features:
      return layout
  raise checks.BadInput(
      f"{path}: holds neither the original's person records ({', '.join(sorted(_LAYOUTS['hmr']))}"
      f", …), russoale/hmr2.0's ({', '.join(sorted(_LAYOUTS['russoale']))}, …) nor mocap "
      f"records (pose, shape); found the features {', '.join(sorted(features))}")


def _files(input_dir):
  """{path: layout} of the non-empty .tfrecord files under input_dir, in path order."""
  paths = sorted(os.path.join(folder, name) for folder, _, names in os.walk(input_dir)
                 for name in names if name.endswith(".tfrecord"))
  layouts = {path: _layout(path) for path in paths}
  return {path: layout for path, layout in layouts.items() if layout}


def _split(path, input_dir):
  """The split word in the file's name or, failing that, in a folder's; BadInput if none."""
  parts = os.path.relpath(path, input_dir).split(os.sep)
  for part in reversed(parts):
    words = [w for w in re.split(r"[^a-z]+", part.lower()) if w in SPLITS]
    if words:
      return words[0]
  raise checks.BadInput(f"{path}: names no split ({', '.join(SPLITS)}) in its name or folders")


def contents(input_dir):
  """(kind, source JointSet, splits) of the records under input_dir (convert.contents)."""
  files = _files(input_dir)
  kinds = {}
  for path, layout in files.items():
    kinds.setdefault("mocap" if layout == "mocap" else "person", path)
  if not kinds:
    raise FileNotFoundError(f"no TFRecord files with records under {input_dir}")
  if len(kinds) > 1:
    raise checks.BadInput(f"{input_dir} holds both person records ({kinds['person']}) and "
                          f"mocap records ({kinds['mocap']}): convert each folder on its own")
  if "mocap" in kinds:
    return "mocap", mocap.SOURCE_JOINTS, mocap.SPLITS
  found = {_split(path, input_dir) for path in files}
  return "person", SOURCE_JOINTS, tuple(s for s in SPLITS if s in found)


def list_items(input_dir, split):
  """One Record per person record of the split, in path order (or mocap's items)."""
  if split not in SPLITS:
    raise ValueError(f"hmr_tfrecords has splits {SPLITS}; received split={split!r}")
  kind = contents(input_dir)[0]
  if kind == "mocap":
    return mocap.list_items(input_dir, split)
  items = []
  for path, layout in _files(input_dir).items():
    if _split(path, input_dir) != split:
      continue
    source = os.path.relpath(path, input_dir)
    first = source.split(os.sep)[0]
    dataset = first if first != os.path.basename(path) else os.path.basename(
        os.path.abspath(input_dir))
    count = int(tf.data.TFRecordDataset(path).reduce(np.int64(0), lambda n, _: n + 1))
    items += [Record(path, i, layout, source, dataset) for i in range(count)]
  return items


@functools.lru_cache(maxsize=1)  # a shard takes a file's records in order: one read per file
def _records(path):
  try:
    return list(tf.data.TFRecordDataset(path).as_numpy_iterator())
  except tf.errors.OpError as error:
    raise checks.BadInput(f"{path}: not a readable TFRecord file ({error.message})") from error


class _Features:
  """The features of one record, each read checked: BadInput naming the record and the key."""

  def __init__(self, record, where):
    try:
      self.features = tf.train.Example.FromString(record).features.feature
    except message.DecodeError as error:
      raise checks.BadInput(f"{where}: not a tf.train.Example ({error})") from error
    self.where = where

  def __contains__(self, key):
    return key in self.features

  def floats(self, key, size):
    return self._values(key, size, "float_list")

  def ints(self, key, size):
    return self._values(key, size, "int64_list")

  def bytes(self, key):
    return self._values(key, 1, "bytes_list")[0]

  def _values(self, key, size, kind):
    if key not in self.features:
      raise checks.BadInput(f"{self.where}: feature '{key}' is missing")
    values = getattr(self.features[key], kind).value
    if len(values) != size:
      raise checks.BadInput(f"{self.where}: expected feature '{key}' to hold {size} "
                            f"{kind.split('_')[0]} values, found {len(values)}")
    return list(values) if kind == "bytes_list" else np.array(values, np.float64)


def _hmr_labels(features):
  """(keypoints [19, 3] in SOURCE_JOINTS order, centre, 3D labels) of an HMR record."""
  keypoints = np.zeros((len(SOURCE_JOINTS), 3))
  keypoints[:_LSP] = np.stack([features.floats("image/x", _LSP), features.floats("image/y", _LSP),
                               features.ints("image/visibility", _LSP)], axis=1)
  if "image/face_pts" in features:
    keypoints[_LSP:] = features.floats("image/face_pts", 3 * _FACE).reshape(3, _FACE).T
  labels = {}
  if "mosh/gt3d" in features:
    labels["keypoints3d"] = features.floats("mosh/gt3d", 3 * _LSP).reshape(_LSP, 3)
    if features.ints("meta/has_3d", 1)[0] > 0:
      labels["pose"] = features.floats("mosh/pose", 72)
      labels["shape"] = features.floats("mosh/shape", 10)
  if "image/cam" in features:
    focal, px, py = features.floats("image/cam", 3)
    labels["intrinsics"] = (focal, focal, px, py)
  name = features.bytes("image/filename").decode() if "image/filename" in features else ""
  return keypoints, features.ints("image/center", 2), labels, name


def _russoale_labels(features):
  """As _hmr_labels, for a russoale record: the centre is that of the labelled keypoints."""
  keypoints = features.floats("keypoints_2d", 3 * len(SOURCE_JOINTS)).reshape(-1, 3)
  labelled = keypoints[:, 2] > 0
  if not labelled.any():
    return keypoints, None, {}, ""
  low, high = keypoints[labelled, :2].min(axis=0), keypoints[labelled, :2].max(axis=0)
  labels = {}
  if features.ints("has_3d", 1)[0] > 0:
    points = features.floats("keypoints_3d", 3 * _LSP).reshape(_LSP, 3)
    # A body in metres never reaches spin_npz.MAX_METRES; one in millimetres always does.
    labels["keypoints3d"] = points / 1000 if np.abs(points).max() > spin_npz.MAX_METRES else points
  name = features.bytes("sequence").decode() if "sequence" in features else ""
  return keypoints, (low + high) / 2, labels, name


def make_examples(item):
  """The example of one person record, or mocap's examples of a mocap item."""
  if isinstance(item, mocap.Item):
    yield from mocap.make_examples(item)
    return
  where = f"{item.path}: record {item.index}"
  features = _Features(_records(item.path)[item.index], where)
  image_key, read = {"hmr": ("image/encoded", _hmr_labels),
                     "russoale": ("image_raw", _russoale_labels)}[item.layout]
  image = person_crop.decode_image(features.bytes(image_key), where)
  keypoints, center, labels, name = read(features)
  if center is None:
    raise SkipExample("no keypoints labelled")
  if not np.all(np.isfinite(keypoints)):
    raise checks.BadInput(f"{where}: keypoints have non-finite coordinates")
  keypoints[:, 2] = keypoints[:, 2] > 0
  cocoplus = joints.convert(keypoints, SOURCE_JOINTS, joints.COCOPLUS_19)
  keypoints3d = labels.get("keypoints3d")
  image_id = f"{item.source}:{item.index}" + (f":{name}" if name else "")
  yield person_crop.person_example(
      image, cocoplus, item.dataset, image_id, center=center, scale=1.0,
      root_relative=keypoints3d is not None and person_item.is_root_relative(keypoints3d),
      **labels)
