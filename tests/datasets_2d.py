"""Test fixtures in the real file formats of the 2D datasets, and checks of converted examples.

Each writer lays out a small dataset the way the real one is distributed (joints.mat written
with scipy.io.savemat in the official array or struct layout, JSON with the official fields)
with synthetic images: a dark background and a white disc on every keypoint of a standing
person, so a check can tell from the stored pixels that the keypoints land on the person.
"""

import json
import os

import cv2
import numpy as np
import scipy.io
import tensorflow as tf

from hmr_tf import joints
from hmr_tf.cli import convert as convert_cli
from hmr_tf.data import schema
from hmr_tf.data import shards

IMAGE_SIZE = (300, 240)  # height, width
DISC_RADIUS = 4  # px, in source images
BACKGROUND = 40
HEAD_NAMES = ("head_top", "nose")  # COCO has no head top: its nose stands in

# A standing person facing the camera, 200 px tall: offsets in px from the mid-hip.
_STANDING = {
    "right_ankle": (-20, 100), "right_knee": (-20, 55), "right_hip": (-15, 10),
    "left_hip": (15, 10), "left_knee": (20, 55), "left_ankle": (20, 100),
    "right_wrist": (-45, 10), "right_elbow": (-40, -25), "right_shoulder": (-30, -55),
    "left_shoulder": (30, -55), "left_elbow": (40, -25), "left_wrist": (45, 10),
    "neck": (0, -62), "head_top": (0, -100), "nose": (0, -80), "left_eye": (6, -86),
    "right_eye": (-6, -86), "left_ear": (12, -82), "right_ear": (-12, -82), "pelvis": (0, 10),
    "thorax": (0, -55)}


def standing(joint_set, offset=(120, 150)):
  """[K, 2] source pixels of the standing person, in `joint_set` order."""
  return np.array([_STANDING[n] for n in joint_set.names], np.float64) + offset


def write_person_image(path, points):
  """A synthetic JPEG with a white disc on each of `points` [K, 2]."""
  image = np.full(IMAGE_SIZE + (3,), BACKGROUND, np.uint8)
  for x, y in points:
    cv2.circle(image, (round(x), round(y)), DISC_RADIUS, (255, 255, 255), -1)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  cv2.imwrite(str(path), image)


def write_lsp(root, num_images, layout="cji", visible_flag=0, images=None, digits=4):
  """LSP (3×14×N, flag 0 = visible) or, with layout "jci", LSP-extended (14×3×N).

  Returns [N, 14, 3] (x, y, flag as written); images are written for the indices in `images`
  (default: all). Joint 5 (left ankle) of image 0 is flagged occluded.
  """
  points = standing(joints.LSP_14)
  annotations = np.zeros((num_images, len(points), 3))
  annotations[:, :, :2] = points
  annotations[:, :, 2] = visible_flag
  annotations[0, 5, 2] = 1 - visible_flag
  os.makedirs(root, exist_ok=True)
  scipy.io.savemat(os.path.join(root, "joints.mat"),
                   {"joints": np.einsum(f"ijc->{layout}", annotations)})
  for i in range(num_images) if images is None else images:
    write_person_image(os.path.join(root, "images", f"im{i + 1:0{digits}d}.jpg"), points)
  return annotations


def struct_array(records):
  """A 1×N MATLAB struct array (as savemat writes one) from a list of dicts with equal keys."""
  array = np.zeros((1, len(records)), dtype=[(name, object) for name in records[0]])
  for i, record in enumerate(records):
    for name, value in record.items():
      array[0, i][name] = value
  return array


def _mpii_rect(points):
  """An annorect of the official release: box, scale, objpos and annopoints.point(x, y, id)."""
  empty = np.zeros((0, 0))
  annopoints = {"point": struct_array([
      {"x": float(x), "y": float(y), "id": j, "is_visible": 1 if j % 2 else empty}
      for j, (x, y) in enumerate(points)])} if points is not None else empty
  return {"x1": 0.0, "y1": 0.0, "x2": 10.0, "y2": 10.0, "annopoints": annopoints,
          "scale": 2.0, "objpos": {"x": 120.0, "y": 150.0}}


def write_mpii_mat(root):
  """mpii_human_pose_v1_u12_1.mat with RELEASE(annolist, img_train, single_person, act, ...).

  Image 1 (train): rect 1 a single person, rect 2 not single. Image 2 (train): a single person
  without keypoints. Image 3: a test image (no keypoints). Returns the expected items' count.
  """
  points = standing(joints.MPII_16)
  rects = [struct_array([_mpii_rect(points), _mpii_rect(points + 30)]),
           struct_array([_mpii_rect(None)]), struct_array([_mpii_rect(None)])]
  annolist = struct_array([
      {"image": {"name": f"{i:09d}.jpg"}, "annorect": rect, "frame_sec": np.zeros((0, 0)),
       "vididx": np.zeros((0, 0))} for i, rect in enumerate(rects)])
  single_person = np.empty((len(rects), 1), object)
  single_person[:, 0] = [np.array([[1]]), np.array([[1]]), np.array([[1]])]
  release = {
      "annolist": annolist, "img_train": np.array([[1, 1, 0]]), "version": "12",
      "single_person": single_person,
      "act": struct_array([{"cat_name": "sports", "act_name": "running", "act_id": 1}] * 3),
      "video_list": np.array(["video"], object)}
  os.makedirs(os.path.join(root, "annotations"), exist_ok=True)
  scipy.io.savemat(os.path.join(root, "annotations", "mpii_human_pose_v1_u12_1.mat"),
                   {"RELEASE": release})
  for i in range(len(rects)):
    write_person_image(os.path.join(root, "images", f"{i:09d}.jpg"), points)
  return 2


def write_mpii_json(root, entries=None):
  """annotations/mpii_train.json (mmpose): two people, the second's right ankle unlabelled."""
  points = standing(joints.MPII_16)
  if entries is None:
    visible = np.ones(len(points), int)
    hidden = visible.copy()
    hidden[joints.MPII_16.index("right_ankle")] = 0
    entries = [{"image": f"{i:09d}.jpg", "center": [120.0, 150.0], "scale": 1.2,
                "joints": np.where(vis[:, None] > 0, points, -1.0).tolist(),
                "joints_vis": vis.tolist()} for i, vis in enumerate([visible, hidden])]
  os.makedirs(os.path.join(root, "annotations"), exist_ok=True)
  with open(os.path.join(root, "annotations", "mpii_train.json"), "w", encoding="utf-8") as f:
    json.dump(entries, f)
  for i in range(len(entries)):
    write_person_image(os.path.join(root, "images", f"{i:09d}.jpg"), points)


def coco_annotation(annotation_id, visibility=2, bbox=(60.0, 40.0, 120.0, 210.0), **fields):
  """A person annotation of the standing person; `visibility` is one value or 17."""
  keypoints = np.zeros((len(joints.COCO_17), 3))
  keypoints[:, :2] = standing(joints.COCO_17)
  keypoints[:, 2] = visibility
  keypoints[keypoints[:, 2] == 0, :2] = 0
  return {"id": annotation_id, "image_id": 1, "category_id": 1, "iscrowd": 0,
          "num_keypoints": int(np.sum(keypoints[:, 2] > 0)), "area": 9000.0,
          "bbox": list(bbox), "segmentation": [[60, 40, 180, 40, 180, 250]],
          "keypoints": keypoints.astype(int).ravel().tolist(), **fields}


def write_coco(root, annotations, split="train", year="2017", image_folder=None):
  """annotations/person_keypoints_<split><year>.json and its one image (file_name as released)."""
  name = f"COCO_{split}{year}_{1:012d}.jpg" if year == "2014" else f"{1:012d}.jpg"
  data = {"info": {}, "licenses": [], "images": [
      {"id": 1, "file_name": name, "height": IMAGE_SIZE[0], "width": IMAGE_SIZE[1]}],
          "annotations": annotations, "categories": [{"id": 1, "name": "person"}]}
  os.makedirs(os.path.join(root, "annotations"), exist_ok=True)
  with open(os.path.join(root, "annotations", f"person_keypoints_{split}{year}.json"), "w",
            encoding="utf-8") as f:
    json.dump(data, f)
  folder = image_folder or f"{split}{year}"
  write_person_image(os.path.join(root, folder, name), standing(joints.COCO_17))


def convert(name, input_dir, output_dir, splits=None, allow_empty=False, **kwargs):
  """What `hmr-convert NAME --input input_dir --output output_dir` does; returns the info."""
  module = convert_cli.converter(name)
  items = convert_cli.list_splits(module, str(input_dir), splits, allow_empty)
  return convert_cli.write_dataset(name, module, items, str(output_dir), str(input_dir),
                                   **kwargs)


def bad_input(skipped):
  """How many of a conversion's skipped items were bad input (whatever the reasons' wording)."""
  return sum(n for reason, n in skipped.items() if reason.startswith("bad input"))


def read_example(example):
  """A tf.train.Example (or its serialized bytes) parsed into a dict of numpy arrays."""
  if not isinstance(example, bytes):
    example = example.SerializeToString()
  return {k: v.numpy() for k, v in schema.parse_person(tf.constant(example)).items()}


def read_examples(directory, split):
  """The parsed examples of a converted split, in shard order."""
  records = tf.data.TFRecordDataset(shards.shard_files(directory, split))
  return [read_example(record.numpy()) for record in records]


def decode(example):
  """[H, W, 3] uint8 stored image of a parsed example."""
  return tf.io.decode_jpeg(example["image/encoded"]).numpy()


def check_on_person(example, synthetic=True):
  """The stored keypoints land on the person in the stored image.

  Every visible keypoint lies inside the crop; where the person is upright (shoulders above
  hips) the head lies above the ankles; on synthetic images each visible keypoint sits on its
  white disc.
  """
  image = decode(example)
  assert image.shape[:2] == (example["image/height"], example["image/width"])
  keypoints = example["keypoints2d"]
  visible = keypoints[:, 2] > 0
  assert visible.any()
  xy = keypoints[visible, :2]
  assert np.all(xy >= 0) and np.all(xy[:, 0] <= image.shape[1] - 1)
  assert np.all(xy[:, 1] <= image.shape[0] - 1)
  if synthetic:
    for x, y in xy:
      assert image[round(y), round(x)].mean() > 128, (x, y)

  assert not upright(keypoints) or head_above_ankles(keypoints)


def _mean(keypoints, names):
  """Mean (x, y) of the visible ones of `names`, or None."""
  rows = [joints.COCOPLUS_19.index(n) for n in names]
  rows = [r for r in rows if keypoints[r, 2] > 0]
  return keypoints[rows, :2].mean(axis=0) if rows else None


def upright(keypoints):
  """Torso within 45° of vertical, head end up, and no knee above the hips."""
  shoulders = _mean(keypoints, ["left_shoulder", "right_shoulder"])
  hips = _mean(keypoints, ["left_hip", "right_hip"])
  if shoulders is None or hips is None:
    return False
  knees = [_mean(keypoints, [n]) for n in ("left_knee", "right_knee")]
  return (hips[1] - shoulders[1] > abs(hips[0] - shoulders[0])
          and all(knee is None or knee[1] > hips[1] for knee in knees))


def head_above_ankles(keypoints):
  """The head top (or the nose, where there is no head top) is above each visible ankle.

  True where neither is visible: nothing to compare.
  """
  head = next((p for p in (_mean(keypoints, [n]) for n in HEAD_NAMES) if p is not None), None)
  ankles = [_mean(keypoints, [n]) for n in ("left_ankle", "right_ankle")]
  return head is None or all(a is None or head[1] < a[1] for a in ankles)
