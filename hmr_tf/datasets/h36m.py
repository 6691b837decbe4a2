"""Human3.6M from its widely shared preprocessed .npz files.

Two forms, told apart by their joint count:
  - SPIN's .npz (spin_npz): part / S over SPIN_24, and SMPL pose / shape where the file has them
    (MoSh fits). Its SMPL pose is already in the camera frame, like S: HMR's note that the
    H3.6M MoSh parameters are in world coordinates concerns the raw MoSh release, not this file.
  - mmpose's body3d .npz: part / S over the dataset's raw 17 joints (joints.H36M_17_RAW), no SMPL.
Human3.6M has no head-top marker: 2D keypoints leave it missing (as SPIN's files do) and 3D joints
take the H3.6M "head" joint, as the H3.6M protocols do (spin_npz._keypoints3d). SPIN's 3D
joints are moved to the pelvis (stored as root-relative), mmpose's are in the camera frame.

Every file is checked to be Human3.6M's before a row is taken: each imgname names a Human3.6M
subject and camera (S9_Walking.55011271_000010.jpg), and 'S' holds bodies in the joint order
its joint count says (spin_npz.check_layout). An MPI-INF-3DHP npz fails both and is refused.

The input is one .npz or a directory of them; images lie relative to the .npz's directory
(imgname as written, or under images/, or in mmpose's S1/S1_Directions_1.54138969/ folders
where imgname is a bare file name). Rows are split by the subject in imgname, as HMR's
protocols do: train S1, S5, S6, S7, S8; test S9, S11 (protocol 1: all cameras and trials;
protocol 2, camera 60457274 trial 1, is a subset picked by image_id). A frame found in several
files is taken once, from a file with SMPL parameters where there is one.
"""

import os
import re

from hmr_tf import checks
from hmr_tf import joints
from hmr_tf.datasets import person_item
from hmr_tf.datasets import spin_npz

KIND = "person"
SPLITS = ("train", "test")
SOURCE_JOINTS = joints.SPIN_24

_SUBJECTS = {"train": {"S1", "S5", "S6", "S7", "S8"}, "test": {"S9", "S11"}}
_JOINT_SETS = {24: joints.SPIN_24, 17: joints.H36M_17_RAW}
_CAMERAS = ("54138969", "55011271", "58860488", "60457274")  # the four cameras' serial numbers
_CAMERA = re.compile(r"\.(\d{8})[_/]")  # "S1_Directions_1.54138969_000001.jpg"
MASK_BOX_MARGIN = 0.9  # SPIN's Human3.6M box side over the segmentation mask's longer side


def _check_names(data):
  """BadInput unless every imgname names a Human3.6M subject and camera."""
  subjects = set().union(*_SUBJECTS.values())
  for i, name in enumerate(data["imgname"]):
    camera = _CAMERA.search(name)
    if (spin_npz.subject(data["path"], name) not in subjects
        or not camera or camera.group(1) not in _CAMERAS):
      raise checks.BadInput(
          f"{data['path']}: field 'imgname' holds '{name}' in row {i}, which is no Human3.6M "
          f"frame: expected one of the subjects {', '.join(sorted(subjects))} and one of the "
          f"cameras {', '.join(_CAMERAS)} in it (hmr-convert mpi_inf_3dhp reads MPI-INF-3DHP's "
          "files)")


def _image_path(root, imgname):
  """Where an image lies: see the module docstring. Names the first guess when none exists."""
  name = os.path.basename(imgname)
  # mmpose's layout: S1/S1_Directions_1.54138969/S1_Directions_1.54138969_000001.jpg
  folder = os.path.join(name.split("_", 1)[0], name.rsplit("_", 1)[0])
  guesses = [os.path.join(base, rel) for base in (root, os.path.join(root, "images"))
             for rel in (imgname, os.path.join(folder, name))]
  return next((g for g in guesses if os.path.isfile(g)), guesses[0])


def list_items(input_dir, split):
  if split not in SPLITS:
    raise ValueError(f"h36m has splits {SPLITS}; received split={split!r}")
  datas = [spin_npz.read(f, _JOINT_SETS) for f in spin_npz.npz_files(input_dir)]
  for data in datas:
    _check_names(data)
  datas.sort(key=lambda d: d["pose"] is None)  # files with SMPL first: their rows win
  seen, items = set(), []
  for data in datas:
    rows = []
    for i, name in enumerate(data["imgname"]):
      key = os.path.basename(name)
      if spin_npz.subject(data["path"], name) in _SUBJECTS[split] and key not in seen:
        seen.add(key)
        rows.append(i)
    items += spin_npz.persons(data, os.path.dirname(data["path"]), rows, _image_path,
                              box_margin=MASK_BOX_MARGIN)
  return items


def make_examples(item):
  return [person_item.example(item, "h36m")]
