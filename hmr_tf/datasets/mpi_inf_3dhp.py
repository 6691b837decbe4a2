"""MPI-INF-3DHP (Mehta et al. 2017): the raw training sequences, the test set, or the npz form.

Training sequences, S1–S8/Seq1–2 (as HMR's mpi_inf_3dhp_to_tfrecords.py reads them):
  S{s}/Seq{q}/annot.mat           annot2 / annot3: cells, one per camera (see 'cameras'), of
                                  [frames, 28 × 2] pixels / [frames, 28 × 3] mm, camera frame;
                                  frames: the 0-based frame numbers
  S{s}/Seq{q}/camera.calibration  per camera "name N" … "intrinsic" + a row-major 4 × 4 matrix
  S{s}/Seq{q}/imageFrames/video_{cam}/frame_{frame + 1:06d}.jpg   frames extracted from the
      .avi files, e.g. ffmpeg -i video_0.avi imageFrames/video_0/frame_%06d.jpg
HMR's filters: cameras 0, 1, 2, 4, 5, 6, 7, 8; per camera, a frame is kept only if some joint
moved 200 mm or more since the last kept frame; 8 or more joints inside the image.
Splits: train S1–S7 (HMR's "train"), validation S8 (HMR's "trainval" is both).

Test set, TS1–TS6 (in the input directory or its mpi_inf_3dhp_test_set/ folder):
  TS{n}/annot_data.mat            MATLAB v7.3 (HDF5) or v5; annot2 [2, 17, 1, frames] pixels,
                                  annot3 [3, 17, 1, frames] mm camera frame, valid_frame [frames]
  TS{n}/imageSequence/img_{frame + 1:06d}.jpg
Only frames with valid_frame = 1 are kept (2,929, the benchmark's frames). The files carry no
intrinsics: they are fitted to annot3 → annot2 per sequence. annot3 (metric, camera frame) is
stored; the benchmark's univ_annot3 rescales it about the pelvis to a universal body height.

The npz form (spin_npz; SPIN's 24 joints or mmpose's 17, MPI_INF_3DHP_17 order) is read where
the raw files are absent: rows are split by subject (TS* rows are the test set), without HMR's
filters (those files are already subsampled). 3D joints are in metres throughout; has_smpl = 0.
The npz files store what they hold: mmpose's annot3 in the camera frame; SPIN's annot3 (train)
and univ_annot3 (test) moved to the pelvis, flagged root-relative, and universal for the test
rows. So a test split from SPIN's file holds the benchmark's univ_annot3, one from the raw files
or mmpose's the metric annot3, and each example says which (schema.py).
"""

import os

import numpy as np

from hmr_tf import checks
from hmr_tf import joints
from hmr_tf.datasets import person_item
from hmr_tf.datasets import raw_files
from hmr_tf.datasets import spin_npz

KIND = "person"
SPLITS = ("train", "validation", "test")
SOURCE_JOINTS = joints.MPI_INF_3DHP_28

SUBJECTS = {"train": range(1, 8), "validation": (8,)}
SEQUENCES = (1, 2)
CAMERAS = (0, 1, 2, 4, 5, 6, 7, 8)  # HMR's: the rest look down from the ceiling or are tilted
TEST_SEQUENCES = range(1, 7)
MIN_MOTION_MM = 200.0
MIN_JOINTS_IN_IMAGE = 8
MAX_FIT_RMS = 2.0  # px: intrinsics fitted to the test annotations are kept only if this close
_STILL = person_item.Filtered(f"no joint moved {MIN_MOTION_MM:.0f} mm since the last kept frame")
_INVALID = person_item.Filtered("not a test frame (valid_frame = 0)")
_NPZ_JOINT_SETS = {24: joints.SPIN_24, 17: joints.MPI_INF_3DHP_17}


def read_calibration(path):
  """{camera: (fx, fy, cx, cy)} from a 3DHP camera.calibration file."""
  if not os.path.isfile(path):
    raise FileNotFoundError(f"camera calibration file not found: {path}")
  cameras, name = {}, None
  with open(path, encoding="utf-8", errors="replace") as f:
    for number, line in enumerate(f, 1):
      tokens = line.split()
      if tokens[:1] == ["intrinsic"] and (name is None or len(tokens) != 17):
        raise checks.BadInput(f"{path}: field 'intrinsic' should follow a 'name' line and hold "
                              f"16 numbers; found {len(tokens) - 1} (camera {name})")
      try:
        if tokens[:1] == ["name"]:
          name = int(tokens[1])
        elif tokens[:1] == ["intrinsic"]:
          k = np.array([float(t) for t in tokens[1:]]).reshape(4, 4)
          cameras[name] = (k[0, 0], k[1, 1], k[0, 2], k[1, 2])
      except (IndexError, ValueError):
        raise checks.BadInput(f"{path}: line {number}: expected '{tokens[0]}' and numbers, "
                              f"found {line.strip()!r}") from None
  return cameras


def _joints(cell, path, field, frames, dims):
  """One camera's cell of annot2/annot3 as [frames, 28, dims]."""
  num_joints = len(joints.MPI_INF_3DHP_28)
  return checks.array(cell, (frames, num_joints * dims), f"{field} (a camera's cell)",
                      path).reshape(frames, num_joints, dims)


def moving_frames(points3d):
  """HMR's sampling: the first frame, then each frame where some joint moved ≥ 200 mm since the
  last kept one. points3d: [frames, joints, 3] mm. Returns a boolean mask [frames]."""
  keep = np.zeros(len(points3d), bool)
  last = None
  for i, points in enumerate(points3d):
    if last is None or np.any(np.linalg.norm(points - last, axis=1) >= MIN_MOTION_MM):
      keep[i], last = True, points
  return keep


def _person(image_path, image_id, points2d, points3d_mm, source, intrinsics, min_in_image):
  keypoints2d = joints.convert(np.concatenate([points2d, np.ones_like(points2d[:, :1])], 1),
                               source, joints.COCOPLUS_19)
  return person_item.Person(
      image_path=image_path, image_id=image_id, keypoints2d=keypoints2d.astype(np.float32),
      keypoints3d=joints.convert(points3d_mm / 1000, source, joints.LSP_14).astype(np.float32),
      intrinsics=intrinsics, min_in_image=min_in_image)


def _train_sequence(root, subject, sequence):
  folder = os.path.join(root, f"S{subject}", f"Seq{sequence}")
  path = os.path.join(folder, "annot.mat")
  mat = raw_files.load_mat(path, ("annot2", "annot3", "frames", "cameras"))
  calibration_path = os.path.join(folder, "camera.calibration")
  calibration = read_calibration(calibration_path)
  frames = checks.array(np.ravel(mat["frames"]), ("F",), "frames", path).astype(int)
  cameras = list(checks.array(np.ravel(mat["cameras"]), ("C",), "cameras", path).astype(int))
  for field in ("annot2", "annot3"):
    if mat[field].dtype != object or mat[field].size != len(cameras):
      raise checks.BadInput(f"{path}: field '{field}' should be a cell per camera "
                            f"({len(cameras)})")
  items = []
  for camera in CAMERAS:
    if camera not in cameras:
      raise checks.BadInput(f"{path}: field 'cameras' lacks camera {camera}")
    if camera not in calibration:
      raise checks.BadInput(f"{calibration_path}: no 'name {camera}' block with an 'intrinsic' "
                            "line")
    cell = cameras.index(camera)
    points2d = _joints(np.ravel(mat["annot2"])[cell], path, "annot2", len(frames), 2)
    points3d = _joints(np.ravel(mat["annot3"])[cell], path, "annot3", len(frames), 3)
    lsp3d = joints.convert(points3d, joints.MPI_INF_3DHP_28, joints.LSP_14)
    for frame, moved, p2, p3 in zip(frames, moving_frames(lsp3d), points2d, points3d):
      name = os.path.join(f"S{subject}", f"Seq{sequence}", "imageFrames", f"video_{camera}",
                          f"frame_{frame + 1:06d}.jpg")
      items.append(_person(os.path.join(root, name), name, p2, p3, joints.MPI_INF_3DHP_28,
                           calibration[camera], MIN_JOINTS_IN_IMAGE) if moved else _STILL)
  return items


def fit_intrinsics(points3d, points2d):
  """(fx, fy, cx, cy) of the pinhole camera that best projects points3d [M, 3] onto points2d
  [M, 2], or None where no camera fits within MAX_FIT_RMS pixels."""
  fit = []
  for axis in (0, 1):
    design = np.stack([points3d[:, axis] / points3d[:, 2], np.ones(len(points3d))], 1)
    solution, *_ = np.linalg.lstsq(design, points2d[:, axis], rcond=None)
    if np.sqrt(np.mean((design @ solution - points2d[:, axis]) ** 2)) > MAX_FIT_RMS:
      return None
    fit.append(solution)
  return (fit[0][0], fit[1][0], fit[0][1], fit[1][1])


def _test_sequence(root, number):
  folder = os.path.join(root, f"TS{number}")
  path = os.path.join(folder, "annot_data.mat")
  mat = raw_files.load_mat(path, ("annot2", "annot3", "valid_frame"))
  valid = checks.array(np.ravel(mat["valid_frame"]), ("F",), "valid_frame", path) > 0
  points = {}
  for field, dims in (("annot2", 2), ("annot3", 3)):
    array = checks.array(mat[field], (dims, len(joints.MPI_INF_3DHP_17), 1, len(valid)), field,
                         path)
    points[field] = array[:, :, 0].transpose(2, 1, 0)  # [frames, 17, dims]
  intrinsics = None
  if valid.any():
    intrinsics = fit_intrinsics(points["annot3"][valid].reshape(-1, 3),
                                points["annot2"][valid].reshape(-1, 2))
  items = []
  for frame in range(len(valid)):
    name = os.path.join(f"TS{number}", "imageSequence", f"img_{frame + 1:06d}.jpg")
    items.append(_person(os.path.join(root, name), name, points["annot2"][frame],
                         points["annot3"][frame], joints.MPI_INF_3DHP_17, intrinsics, 0)
                 if valid[frame] else _INVALID)
  return items


def _test_root(input_dir):
  for root in (input_dir, os.path.join(input_dir, "mpi_inf_3dhp_test_set")):
    if os.path.isdir(os.path.join(root, "TS1")):
      return root
  return None


def _npz_items(input_dir, split):
  try:
    files = spin_npz.npz_files(input_dir)
  except FileNotFoundError:
    raw = "TS1/annot_data.mat" if split == "test" else f"S{SUBJECTS[split][0]}/Seq1/annot.mat"
    raise FileNotFoundError(f"{input_dir}: found neither the raw files ({raw}) nor .npz files "
                            f"for the '{split}' split") from None
  items = []
  for path in files:
    data = spin_npz.read(path, _NPZ_JOINT_SETS)
    subjects = [spin_npz.subject(path, name) for name in data["imgname"]]
    rows = [i for i, s in enumerate(subjects) if s.startswith("TS") == (split == "test") and (
        split == "test" or int(s[1:]) in SUBJECTS[split])]
    # SPIN's test file holds univ_annot3, moved to the root (its root-relative rows).
    items += spin_npz.persons(data, os.path.dirname(path), rows, universal=split == "test")
  return items


def list_items(input_dir, split):
  if split not in SPLITS:
    raise ValueError(f"mpi_inf_3dhp has splits {SPLITS}; received split={split!r}")
  if split == "test":
    root = _test_root(input_dir)
    if root is not None:
      return [item for number in TEST_SEQUENCES for item in _test_sequence(root, number)]
  elif os.path.isdir(os.path.join(input_dir, f"S{SUBJECTS[split][0]}")):
    return [item for subject in SUBJECTS[split] for sequence in SEQUENCES
            for item in _train_sequence(input_dir, subject, sequence)]
  return _npz_items(input_dir, split)


def make_examples(item):
  return [person_item.example(item, "mpi_inf_3dhp")]
