"""hmr-convert hmr_tfrecords: the original's records (HMR's, russoale/hmr2.0's) into our schema.

The fixtures are written here in the originals' layouts, feature by feature as
akanazawa/hmr src/datasets/common.py (convert_to_example, convert_to_example_wmosh),
smpl_to_tfrecords.py and russoale/hmr2.0 datasets_preprocessing/converter/ write them.
"""

import os

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation
import tensorflow as tf

import datasets_2d
import datasets_3d
from hmr_tf import checks
from hmr_tf import joints
from hmr_tf.data import schema
from hmr_tf.data import shards
from hmr_tf.datasets import hmr_tfrecords

_LSP = joints.LSP_14
_COCOPLUS = joints.COCOPLUS_19
# The face points as both originals store them: COCO's first five, in COCO's order.
_FACE = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
_MIDDLE = schema.REFERENCE_SIZE / 2


def _floats(values):
  return tf.train.Feature(float_list=tf.train.FloatList(value=np.ravel(values).tolist()))


def _ints(values):
  return tf.train.Feature(int64_list=tf.train.Int64List(value=np.ravel(values).tolist()))


def _bytes(value):
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _write(path, features):
  """A .tfrecord of tf.train.Examples, one per dict of features."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with tf.io.TFRecordWriter(str(path)) as writer:
    for feature in features:
      writer.write(tf.train.Example(features=tf.train.Features(feature=feature))
                   .SerializeToString())


def _jpeg(points, size=datasets_2d.IMAGE_SIZE):
  """A JPEG with a white disc on each of points [K, 2] (datasets_2d's synthetic person)."""
  image = np.full(size + (3,), datasets_2d.BACKGROUND, np.uint8)
  for x, y in points:
    cv2.circle(image, (round(x), round(y)), datasets_2d.DISC_RADIUS, (255, 255, 255), -1)
  return cv2.imencode(".jpg", image)[1].tobytes()


def hmr_person(points, visibility, filename, face=None, with_3d=None):
  """HMR's features of one person: points [14, 2] LSP, visibility [14] (0/1/2), face [5, 3]
  (x, y, visibility) in COCO's order, with_3d {gt3d [14, 3], pose, shape, cam} or None."""
  visible = visibility > 0
  center = ((points[visible].min(0) + points[visible].max(0)) / 2).astype(int)
  drawn = points[visible] if face is None else np.concatenate([points[visible],
                                                               face[face[:, 2] > 0, :2]])
  feature = {
      "image/height": _ints(datasets_2d.IMAGE_SIZE[0]),
      "image/width": _ints(datasets_2d.IMAGE_SIZE[1]), "image/center": _ints(center),
      "image/x": _floats(points[:, 0]), "image/y": _floats(points[:, 1]),
      "image/visibility": _ints(visibility), "image/format": _bytes(b"JPEG"),
      "image/filename": _bytes(filename.encode()), "image/encoded": _bytes(_jpeg(drawn))}
  if face is not None:
    feature["image/face_pts"] = _floats(face.T)  # label[:, 14:] of 3 × 5, row-major
  if with_3d is not None:
    has_smpl = with_3d.get("pose") is not None
    feature.update({
        "mosh/pose": _floats(with_3d["pose"] if has_smpl else -np.ones(72)),
        "mosh/shape": _floats(with_3d["shape"] if has_smpl else -np.ones(10)),
        "mosh/gt3d": _floats(with_3d["gt3d"]), "meta/has_3d": _ints(int(has_smpl)),
        "meta/scale_factors": _floats([1.0, 1.0]), "meta/crop_pt": _ints([0, 0]),
        "image/cam": _floats(with_3d["cam"])})
  return feature


def russoale_person(keypoints, keypoints3d=None, sequence=None):
  """russoale/hmr2.0's features: keypoints [19, 3] in the records' order, 3D [14, 3] or None."""
  feature = {"image_raw": _bytes(_jpeg(keypoints[keypoints[:, 2] > 0, :2])),
             "keypoints_2d": _floats(keypoints),
             "keypoints_3d": _floats(np.zeros((14, 3)) if keypoints3d is None else keypoints3d),
             "has_3d": _ints(int(keypoints3d is not None))}
  if sequence:
    feature["sequence"] = _bytes(sequence.encode())
  return feature


def mocap_record(pose, shape):
  return {"pose": _floats(pose), "shape": _floats(shape)}


def convert(input_dir, output_dir):
  """hmr-convert hmr_tfrecords: the info, and the parsed examples of each split (person)."""
  info = datasets_2d.convert("hmr_tfrecords", input_dir, output_dir)
  if info["kind"] != "person":
    return info, None
  return info, {split: datasets_2d.read_examples(output_dir, split) for split in info["splits"]}


def stored(example, name):
  """(x, y, visibility) of a cocoplus keypoint of a parsed example."""
  return example["keypoints2d"][_COCOPLUS.index(name)]


def _standing_face():
  points = datasets_2d.standing(joints.COCO_17)[:5]
  return np.concatenate([points, [[2], [2], [1], [2], [0]]], axis=1)  # right ear unlabelled


def test_hmr_person_records_keep_their_scale_labels_and_splits(tmp_path):
  points = datasets_2d.standing(_LSP)
  visibility = np.ones(14, int)
  occluded = visibility.copy()
  occluded[_LSP.index("left_ankle")] = 0
  _write(tmp_path / "raw" / "lsp" / "train_000.tfrecord",
         [hmr_person(points, visibility, "im0001.jpg"),
          hmr_person(points, occluded, "im0002.jpg")])
  _write(tmp_path / "raw" / "lsp" / "test_000.tfrecord", [hmr_person(points, visibility,
                                                                     "im1001.jpg")])
  coco_visibility = np.full(14, 2)
  coco_visibility[_LSP.indices(["neck", "head_top"])] = 0  # COCO has neither
  _write(tmp_path / "raw" / "coco" / "train_0000_wmeta.tfrecord",
         [hmr_person(points, coco_visibility, "COCO_train2014_000000000001.jpg",
                     face=_standing_face())])
  info, examples = convert(tmp_path / "raw", tmp_path / "out")
  assert info["kind"] == "person" and info["source_joints"] == "cocoplus_19"
  assert {split: s["examples"] for split, s in info["splits"].items()} == {"train": 3, "test": 1}
  from_coco, first, second = examples["train"]  # in path order
  assert [e["image_id"] for e in examples["train"]] == [
      b"coco/train_0000_wmeta.tfrecord:0:COCO_train2014_000000000001.jpg",
      b"lsp/train_000.tfrecord:0:im0001.jpg", b"lsp/train_000.tfrecord:1:im0002.jpg"]
  assert (first["dataset"], from_coco["dataset"]) == (b"lsp", b"coco")
  for example in (first, second, from_coco, *examples["test"]):
    # The original's scale, one stored pixel per pixel of the record, around its centre.
    assert example["crop/scale"] == 1.0
    assert example["image/width"] == example["image/height"] == schema.REFERENCE_SIZE
    np.testing.assert_allclose(example["crop/center"], [_MIDDLE] * 2, atol=0.5)
    datasets_2d.check_on_person(example)
    offset = example["crop/offset"]
    np.testing.assert_allclose(stored(example, "right_wrist")[:2] + offset,
                               points[_LSP.index("right_wrist")], atol=1e-4)
  assert stored(second, "left_ankle")[2] == 0 and not stored(second, "left_ankle")[:2].any()
  # COCO's face points land on their names: the record's fourth is the left ear.
  face = _standing_face()
  for i, name in enumerate(_FACE):
    expected = face[i, :2] - from_coco["crop/offset"] if face[i, 2] else (0, 0)
    np.testing.assert_allclose(stored(from_coco, name)[:2], expected, atol=1e-4)
    assert stored(from_coco, name)[2] == (face[i, 2] > 0)
  assert stored(from_coco, "neck")[2] == 0 and stored(first, "nose")[2] == 0


def test_hmr_3d_records_keep_joints_smpl_and_camera(tmp_path):
  points3d = datasets_3d.body(_LSP)  # camera frame, 3.2 m away
  points = datasets_3d.project(points3d)
  fx, _, cx, cy = datasets_3d.INTRINSICS
  pose, shape = np.full(72, 0.1), np.linspace(-1, 1, 10)
  # MPI-INF-3DHP: camera-frame joints, no SMPL. Human3.6M: SMPL, joints about their mean.
  _write(tmp_path / "raw" / "mpi_inf_3dhp" / "train" / "train_0000.tfrecord",
         [hmr_person(points, np.ones(14, int), "frame_000001.jpg",
                     with_3d={"gt3d": points3d, "cam": [fx, cx, cy]})])
  centred = points3d - points3d.mean(axis=0)
  _write(tmp_path / "raw" / "tf_records_human36m_wjoints" / "train" / "S1_Walking.tfrecord",
         [hmr_person(points, np.ones(14, int), "S1_Walking_frame1.jpg",
                     with_3d={"gt3d": centred, "pose": pose, "shape": shape,
                              "cam": [fx, cx, cy]})])
  _, examples = convert(tmp_path / "raw", tmp_path / "out")
  mpii3d, h36m_example = examples["train"]  # in path order
  assert mpii3d["dataset"] == b"mpi_inf_3dhp"
  assert (mpii3d["has_3d"], mpii3d["has_smpl"], mpii3d["keypoints3d/root_relative"]) == (1, 0, 0)
  np.testing.assert_allclose(mpii3d["keypoints3d"], points3d, atol=1e-6)
  # The camera follows the crop: the 3D joints project onto the stored keypoints.
  fx_s, fy_s, cx_s, cy_s = mpii3d["camera/intrinsics"]
  projected = mpii3d["keypoints3d"][:, :2] / mpii3d["keypoints3d"][:, 2:] * [fx_s, fy_s]
  np.testing.assert_allclose(projected + [cx_s, cy_s], mpii3d["keypoints2d"][:14, :2],
                             atol=1e-3)
  assert (h36m_example["has_3d"], h36m_example["has_smpl"]) == (1, 1)
  assert h36m_example["keypoints3d/root_relative"] == 1
  np.testing.assert_allclose(h36m_example["keypoints3d"], centred, atol=1e-6)
  np.testing.assert_allclose(h36m_example["smpl/pose"], pose, atol=1e-6)
  np.testing.assert_allclose(h36m_example["smpl/shape"], shape, atol=1e-6)


def test_russoale_person_records(tmp_path):
  names = _LSP.names + _FACE
  keypoints = np.zeros((19, 3))
  keypoints[:14, :2] = datasets_2d.standing(_LSP)
  keypoints[:14, 2] = 1
  keypoints[_LSP.index("head_top"), 2] = 0  # dropped by russoale's converter
  keypoints[_LSP.index("head_top"), :2] = 0
  keypoints[14:] = _standing_face()
  keypoints[14:, 2] = keypoints[14:, 2] > 0
  millimetres = datasets_3d.body(_LSP) * 1000
  _write(tmp_path / "raw" / "000_train.tfrecord", [russoale_person(keypoints)])
  _write(tmp_path / "raw" / "001_val.tfrecord",
         [russoale_person(keypoints, millimetres, sequence="mpii_ts1")])
  _, examples = convert(tmp_path / "raw", tmp_path / "out")
  (train,), (val,) = examples["train"], examples["val"]
  assert train["dataset"] == b"raw" and train["has_3d"] == 0
  assert val["image_id"] == b"001_val.tfrecord:0:mpii_ts1"
  np.testing.assert_allclose(val["keypoints3d"], millimetres / 1000, atol=1e-6)
  assert val["keypoints3d/root_relative"] == 0
  for example in (train, val):
    datasets_2d.check_on_person(example)
    # Centred on the box of the labelled keypoints, as russoale's loader crops.
    labelled = keypoints[keypoints[:, 2] > 0, :2]
    np.testing.assert_allclose(example["crop/center"] + example["crop/offset"],
                               (labelled.min(0) + labelled.max(0)) / 2, atol=1e-4)
    for i, name in enumerate(names):
      assert stored(example, name)[2] == keypoints[i, 2]
      if keypoints[i, 2]:
        np.testing.assert_allclose(stored(example, name)[:2] + example["crop/offset"],
                                   keypoints[i, :2], atol=1e-4)


def test_mocap_records_make_a_mocap_dataset(tmp_path):
  rng = np.random.default_rng(0)
  poses = rng.normal(scale=0.3, size=(12, 72))
  shapes = rng.normal(size=(12, 10))
  _write(tmp_path / "raw" / "mocap_neutrMosh" / "neutrSMPL_CMU_000.tfrecord",
         [mocap_record(p, s) for p, s in zip(poses, shapes)])
  info, _ = convert(tmp_path / "raw", tmp_path / "out")
  assert info["kind"] == "mocap" and info["splits"]["train"]["examples"] == 12
  records = tf.data.TFRecordDataset(shards.shard_files(tmp_path / "out", "train"))
  stored_poses = np.array([schema.parse_mocap(r)["pose"].numpy() for r in records])
  # Mosh is z-up: the root turns -90° about x into SMPL's y-up frame; the rest is kept.
  root = Rotation.from_euler("x", -90, degrees=True) * Rotation.from_rotvec(poses[:, :3])
  np.testing.assert_allclose(Rotation.from_rotvec(stored_poses[:, :3]).as_matrix(),
                             root.as_matrix(), atol=1e-5)
  np.testing.assert_allclose(Rotation.from_rotvec(stored_poses[:, 3:].reshape(-1, 3))
                             .as_matrix(), Rotation.from_rotvec(poses[:, 3:].reshape(-1, 3))
                             .as_matrix(), atol=1e-5)


def test_refusals_name_the_file(tmp_path):
  points = datasets_2d.standing(_LSP)
  _write(tmp_path / "mixed" / "lsp" / "train_000.tfrecord",
         [hmr_person(points, np.ones(14, int), "im0001.jpg")])
  _write(tmp_path / "mixed" / "mocap" / "neutrSMPL_CMU_000.tfrecord",
         [mocap_record(np.zeros(72), np.zeros(10))])
  with pytest.raises(checks.BadInput, match=r"holds both person records .*lsp/train_000"
                                            r"\.tfrecord\) and mocap records"):
    hmr_tfrecords.contents(str(tmp_path / "mixed"))
  _write(tmp_path / "other" / "train.tfrecord", [{"label": _ints(1)}])
  with pytest.raises(checks.BadInput, match=r"other/train\.tfrecord: holds neither .* found the "
                                            r"features label"):
    hmr_tfrecords.contents(str(tmp_path / "other"))
  _write(tmp_path / "nosplit" / "lsp" / "records_000.tfrecord",
         [hmr_person(points, np.ones(14, int), "im0001.jpg")])
  with pytest.raises(checks.BadInput, match=r"records_000\.tfrecord: names no split"):
    hmr_tfrecords.contents(str(tmp_path / "nosplit"))
  bad = hmr_person(points, np.ones(14, int), "im0001.jpg")
  bad["image/x"] = _floats(points[:13, 0])
  _write(tmp_path / "short" / "train_000.tfrecord", [bad])
  (item,) = hmr_tfrecords.list_items(str(tmp_path / "short"), "train")
  with pytest.raises(checks.BadInput, match=r"train_000\.tfrecord: record 0: expected feature "
                                            r"'image/x' to hold 14 float values, found 13"):
    list(hmr_tfrecords.make_examples(item))


def test_real_russoale_mocap_records(shared_data, tmp_path):
  raw = os.path.join(shared_data, "hmr2.0_russoale", "tests_smpl")
  records = tf.data.TFRecordDataset(os.path.join(raw, "000_train.tfrecord"))
  count = int(records.reduce(0, lambda n, _: n + 1))
  record = tf.train.Example.FromString(next(iter(records)).numpy()).features.feature
  info, _ = convert(raw, tmp_path / "out")
  assert info["kind"] == "mocap"
  assert info["splits"]["train"]["examples"] == count > 1000
  stored_records = tf.data.TFRecordDataset(shards.shard_files(tmp_path / "out", "train"))
  first = schema.parse_mocap(next(iter(stored_records)))
  np.testing.assert_allclose(first["shape"], record["shape"].float_list.value, atol=1e-6)
  root = Rotation.from_euler("x", -90, degrees=True) * Rotation.from_rotvec(
      np.array(record["pose"].float_list.value[:3]))
  np.testing.assert_allclose(Rotation.from_rotvec(first["pose"][:3]).as_matrix(),
                             root.as_matrix(), atol=1e-5)
