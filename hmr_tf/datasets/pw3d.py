"""3DPW (von Marcard et al. 2018): the sequenceFiles .pkl release, or its npz forms.

The release (input: the dataset root):
  sequenceFiles/{train,validation,test}/<sequence>.pkl, Python-2 pickles (read with safe_pickle):
    poses [P][N, 72] SMPL pose, world frame; betas [P][≥ 10]; cam_poses [N, 4, 4] world → cam;
    campose_valid [P][N]; cam_intrinsics [3, 3]; poses2d [P][N, 3, 18] OpenPose detections
    (x, y, confidence; all zero where none); sequence; genders, trans, jointPositions (unused)
  imageFiles/<sequence>/image_{frame:05d}.jpg
One example per person and frame whose camera pose is aligned (campose_valid), with image_id
"<sequence>/image_<frame>.jpg#<person>". SMPL pose goes to the camera frame (global_orient ←
R_cam · global_orient), shape takes the first 10 betas, 2D keypoints are the detections with
confidence > 0 (so neck and head top are missing; the person is sized by HMR's COCO rule, the
one for COCO-style points with any of them missing), and the intrinsics are stored. No 3D joints (has_3d = 0): 3DPW's 3D truth is the SMPL body itself, and
the benchmark poses it with the gender-specific SMPL ('genders'), which the schema cannot carry.

The npz forms (input: a directory holding <anything>_<split>.npz, or the file itself), with
images relative to the file's directory; no 2D keypoints, so the crop comes from the box:
  - mmhuman3d's HumanData: image_path [N], bbox_xywh [N, 4 or 5], smpl {global_orient [N, 3]
    (already camera frame), body_pose [N, 23, 3], betas [N, 10]}, meta, config. Its object
    arrays are pickles, read with safe_pickle. Files with config '3dpw' come from mmhuman3d's
    first converter, whose box has height max y − min x: undone in _legacy_box.
  - SPIN's: imgname, center, scale, pose, shape (spin_npz).
"""

import glob
import os

import numpy as np
from scipy.spatial.transform import Rotation

from hmr_tf import array_files
from hmr_tf import checks
from hmr_tf import joints
from hmr_tf import safe_pickle
from hmr_tf import theta
from hmr_tf.data.shards import SkipExample
from hmr_tf.datasets import person_item
from hmr_tf.datasets import spin_npz

KIND = "person"
SPLITS = ("train", "validation", "test")
SOURCE_JOINTS = joints.OPENPOSE_18

HUMANDATA_BOX_MARGIN = 1.2  # mmhuman3d grows the keypoints' box 1.2× about its centre
_NOT_ALIGNED = person_item.Filtered("camera pose not aligned to the image (campose_valid = 0)")
_SEQUENCE_FIELDS = ("sequence", "poses", "betas", "poses2d", "campose_valid", "cam_poses",
                    "cam_intrinsics")


def _camera_frame(global_orient, rotation):
  """Axis-angle [N, 3] world-frame root orientations turned into the camera frame [N, 3]."""
  world = Rotation.from_rotvec(global_orient).as_matrix()
  return Rotation.from_matrix(rotation @ world).as_rotvec()


def _per_person(data, path, field, people=None):
  """data[field]: a list (or array) with one entry per person, `people` of them where given."""
  value = data[field]
  count = len(value) if isinstance(value, (list, tuple, np.ndarray)) and np.ndim(value) else None
  if count is None or people is not None and count != people:
    raise checks.BadInput(f"{path}: expected {field} to hold one entry per person "
                          f"({people if people is not None else 'a list'}), found "
                          f"{type(value).__name__} of {count} entries")
  return value


def _sequence_items(path, root):
  """Items of one sequenceFiles/<split>/<sequence>.pkl."""
  data = safe_pickle.load(path)
  if not isinstance(data, dict):
    raise checks.BadInput(f"{path}: not a 3DPW sequence file (a dict of "
                          f"{', '.join(_SEQUENCE_FIELDS)})")
  for field in _SEQUENCE_FIELDS:
    if field not in data:
      raise checks.BadInput(f"{path}: field '{field}' is missing")
  people = len(_per_person(data, path, "poses"))
  betas, poses2d, valid = (_per_person(data, path, field, people)
                           for field in ("betas", "poses2d", "campose_valid"))
  sequence = data["sequence"]
  if not isinstance(sequence, str) or os.path.basename(sequence) != sequence:
    raise checks.BadInput(f"{path}: expected sequence to be a sequence's name, found "
                          f"{sequence!r}")
  cam_poses = checks.array(data["cam_poses"], ("N", 4, 4), "cam_poses", path, finite=True)
  k = checks.array(data["cam_intrinsics"], (3, 3), "cam_intrinsics", path, finite=True)
  intrinsics = (k[0, 0], k[1, 1], k[0, 2], k[1, 2])
  frames = len(cam_poses)
  items = []
  for person, poses in enumerate(data["poses"]):
    poses = checks.array(poses, (frames, theta.NUM_POSE), f"poses[{person}]", path,
                         finite=True).copy()
    poses[:, :3] = _camera_frame(poses[:, :3], cam_poses[:, :3, :3])
    shape = checks.array(betas[person], ("B",), f"betas[{person}]", path)[:theta.NUM_SHAPE]
    detections2d = checks.array(poses2d[person], (frames, 3, 18), f"poses2d[{person}]", path)
    aligned = checks.array(valid[person], (frames,), f"campose_valid[{person}]", path)
    for frame in range(frames):
      if not aligned[frame]:
        items.append(_NOT_ALIGNED)
        continue
      detections = detections2d[frame].T.copy()  # [18, (x, y, confidence)]
      detections[:, 2] = detections[:, 2] > 0
      name = os.path.join(sequence, f"image_{frame:05d}.jpg")
      items.append(person_item.Person(
          image_path=os.path.join(root, "imageFiles", name), image_id=f"{name}#{person}",
          keypoints2d=joints.convert(detections, joints.OPENPOSE_18, joints.COCOPLUS_19),
          pose=poses[frame].astype(np.float32), shape=shape.astype(np.float32),
          intrinsics=intrinsics, rule="coco"))
  return items


def read_npz(path):
  """An .npz whose object arrays are pickles, read without running code from it."""
  return array_files.load_npz(path, allow_objects=True)


def _legacy_box(x, y, width, height):
  """The keypoints' box (low, high corners) from a config-'3dpw' HumanData box.

  That converter grew the box [x0, x1] × [y0, y1] 1.2× about its centre but took the height
  from y1 − x0: so x = x0 − 0.1 (x1 − x0), width = 1.44 (x1 − x0), y = 1.1 y0 − 0.1 y1 and
  height = 1.44 (y1 − x0).
  """
  tight_width = width / HUMANDATA_BOX_MARGIN ** 2
  x0 = x + 0.1 * tight_width
  y1 = height / HUMANDATA_BOX_MARGIN ** 2 + x0
  y0 = (y + 0.1 * y1) / 1.1
  return (x0, y0), (x0 + tight_width, y1)


def _humandata_items(path, data):
  for key in ("image_path", "bbox_xywh", "smpl"):
    if key not in data:
      raise checks.BadInput(f"{path}: field '{key}' is missing")
  image_path = data["image_path"]
  if image_path.ndim != 1 or not all(isinstance(n, str) for n in image_path.tolist()):
    raise checks.BadInput(f"{path}: expected image_path of shape [N] holding text, found "
                          f"{list(image_path.shape)} {image_path.dtype}")
  names = image_path.tolist()
  rows = len(names)
  smpl = data["smpl"].item() if data["smpl"].size == 1 else None
  if not isinstance(smpl, dict) or not {"global_orient", "body_pose", "betas"} <= set(smpl):
    raise checks.BadInput(f"{path}: field 'smpl' should be a dict with global_orient, "
                          "body_pose, betas")
  pose = np.concatenate([
      checks.array(smpl["global_orient"], (rows, 3), "smpl.global_orient", path),
      checks.array(smpl["body_pose"], (rows, len(joints.SMPL_24) - 1, 3), "smpl.body_pose",
                   path).reshape(rows, -1)], 1)
  betas = checks.array(smpl["betas"], (rows, theta.NUM_SHAPE), "smpl.betas", path)
  boxes = checks.array(data["bbox_xywh"], (rows, (4, 5)), "bbox_xywh", path, finite=True)[:, :4]
  legacy = str(data.get("config", "")) == "3dpw"
  items = []
  for name, box, row_pose, row_betas in zip(names, boxes, pose, betas):
    if legacy:
      corners = _legacy_box(*box)
    else:
      center, half = box[:2] + box[2:] / 2, box[2:] / (2 * HUMANDATA_BOX_MARGIN)
      corners = (center - half, center + half)
    try:
      box = person_item.box_from_corners(*corners)
    except SkipExample as skip:  # counted with the conversion's other drops
      items.append(person_item.Filtered(str(skip)))
      continue
    items.append(person_item.Person(
        image_path=os.path.join(os.path.dirname(path), name), image_id=name,
        keypoints2d=np.zeros((len(joints.COCOPLUS_19), 3), np.float32),
        pose=row_pose.astype(np.float32), shape=row_betas.astype(np.float32), box=box))
  return items


def _npz_items(input_path, split):
  if os.path.isfile(input_path):
    files = [input_path]
  else:
    files = [f for f in sorted(glob.glob(os.path.join(input_path, "*.npz")))
             if os.path.basename(f)[:-4].split("_")[-1] == split]
  if not files:
    raise FileNotFoundError(f"{input_path}: found neither sequenceFiles/{split}/*.pkl nor an "
                            f"<anything>_{split}.npz")
  items = []
  for path in files:
    data = read_npz(path)
    if "image_path" in data:
      items += _humandata_items(path, data)
    else:
      spin = spin_npz.read(path, {})
      items += spin_npz.persons(spin, os.path.dirname(path), range(len(spin["imgname"])))
  return items


def list_items(input_dir, split):
  if split not in SPLITS:
    raise ValueError(f"pw3d has splits {SPLITS}; received split={split!r}")
  folder = os.path.join(input_dir, "sequenceFiles", split)
  if not os.path.isdir(folder):
    return _npz_items(input_dir, split)
  files = sorted(glob.glob(os.path.join(folder, "*.pkl")))
  if not files:
    raise FileNotFoundError(f"no 3DPW sequence files (*.pkl) in {folder}")
  return [item for path in files for item in _sequence_items(path, input_dir)]


def make_examples(item):
  return [person_item.example(item, "pw3d")]
