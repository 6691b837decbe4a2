"""Test fixtures in the real file formats of MPI-INF-3DHP, Human3.6M and 3DPW.

A standing person's joints in metres in a camera frame are projected with a known pinhole
camera; the 2D annotations are those projections, and the image (datasets_2d.write_person_image)
has a white disc on each, so 3D joints, 2D keypoints and pixels agree.
"""

import os
import pickle

import h5py
import numpy as np
import scipy.io
from scipy.spatial.transform import Rotation

import datasets_2d
from hmr_tf import joints

INTRINSICS = (200.0, 200.0, 120.0, 150.0)  # fx, fy, cx, cy of a 240 × 300 image
DEPTH = 3.2  # m from the camera to the pelvis

# A standing person facing the camera (their left at +x), metres from the pelvis, y down.
_MIDLINE = {
    "head_top": (0, -0.78, 0), "head": (0, -0.66, 0), "nose": (0, -0.62, -0.09),
    "jaw": (0, -0.57, -0.05), "neck": (0, -0.50, 0), "openpose_neck": (0, -0.47, 0),
    "thorax": (0, -0.45, 0), "spine4": (0, -0.40, 0), "spine3": (0, -0.30, 0),
    "spine2": (0, -0.20, 0), "spine": (0, -0.10, 0), "pelvis": (0, 0, 0)}
_LEFT = {
    "eye": (0.03, -0.66, -0.08), "ear": (0.07, -0.64, 0), "clavicle": (0.06, -0.47, 0),
    "shoulder": (0.18, -0.46, 0), "elbow": (0.22, -0.20, 0), "wrist": (0.24, 0.03, 0),
    "hand": (0.25, 0.10, 0), "hip": (0.10, 0.02, 0), "knee": (0.11, 0.45, 0),
    "ankle": (0.12, 0.86, 0), "foot": (0.12, 0.90, -0.08), "toe": (0.12, 0.91, -0.15)}
_BODY = {**_MIDLINE, **{f"left_{n}": p for n, p in _LEFT.items()},
         **{f"right_{n}": (-x, y, z) for n, (x, y, z) in _LEFT.items()}}


def body(joint_set, shift=(0.0, 0.0, 0.0)):
  """[J, 3] camera-frame metres of the standing person, in `joint_set` order."""
  return np.array([_BODY[n] for n in joint_set.names]) + np.add([0, 0, DEPTH], shift)


def project(points):
  fx, fy, cx, cy = INTRINSICS
  return points[:, :2] / points[:, 2:] * [fx, fy] + [cx, cy]


def _image(path, joint_set, shift):
  datasets_2d.write_person_image(path, project(body(joint_set, shift)))


# MPI-INF-3DHP.

def write_3dhp_sequence(root, subject, sequence, shifts):
  """S{subject}/Seq{sequence}: annot.mat (cells for 14 cameras), camera.calibration, frames.

  Frame i shows the person moved by shifts[i] (metres); every camera sees the same view.
  """
  folder = os.path.join(root, f"S{subject}", f"Seq{sequence}")
  source = joints.MPI_INF_3DHP_28
  points3d = np.stack([body(source, s) for s in shifts]) * 1000  # mm
  points2d = np.stack([project(p / 1000) for p in points3d])
  cells = {k: np.empty((14, 1), object) for k in ("annot2", "annot3", "univ_annot3")}
  for camera in range(14):
    cells["annot2"][camera, 0] = points2d.reshape(len(shifts), -1)
    cells["annot3"][camera, 0] = cells["univ_annot3"][camera, 0] = points3d.reshape(
        len(shifts), -1)
  os.makedirs(folder, exist_ok=True)
  scipy.io.savemat(os.path.join(folder, "annot.mat"), {
      **cells, "frames": np.arange(len(shifts))[:, None], "cameras": np.arange(14)[None]})
  fx, fy, cx, cy = INTRINSICS
  with open(os.path.join(folder, "camera.calibration"), "w", encoding="utf-8") as f:
    f.write("Skeletool Camera Calibration File V1.0\n")
    for camera in range(14):
      f.write(f"name          {camera}\n  sensor      10 10\n  size        240 300\n"
              f"  animated    0\n  intrinsic   {fx} 0 {cx} 0 0 {fy} {cy} 0 0 0 1 0 0 0 0 1 \n"
              "  extrinsic   1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1 \n  radial      0\n")
  for camera in range(14):
    for frame, shift in enumerate(shifts):
      _image(os.path.join(folder, "imageFrames", f"video_{camera}",
                          f"frame_{frame + 1:06d}.jpg"), source, shift)


def write_3dhp_test(root, number, valid, hdf5):
  """TS{number}/annot_data.mat (MATLAB v7.3 as released, or v5) and imageSequence/."""
  folder = os.path.join(root, f"TS{number}")
  source = joints.MPI_INF_3DHP_17
  shifts = [(0.1 * i, 0, 0) for i in range(len(valid))]
  points3d = np.stack([body(source, s) for s in shifts]) * 1000
  points2d = np.stack([project(p / 1000) for p in points3d])
  matlab = {  # MATLAB's dimension order: [coordinate, joint, 1, frame]
      "annot2": points2d.transpose(2, 1, 0)[:, :, None], "valid_frame": np.array([valid]),
      "annot3": points3d.transpose(2, 1, 0)[:, :, None],
      "univ_annot3": points3d.transpose(2, 1, 0)[:, :, None]}
  os.makedirs(folder, exist_ok=True)
  path = os.path.join(folder, "annot_data.mat")
  if hdf5:
    with h5py.File(path, "w", userblock_size=512) as f:
      for name, array in matlab.items():
        f[name] = np.asarray(array, np.float64).T  # HDF5 holds MATLAB arrays axes reversed
    with open(path, "r+b") as f:
      f.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116))
  else:
    scipy.io.savemat(path, matlab)
  for frame, shift in enumerate(shifts):
    _image(os.path.join(folder, "imageSequence", f"img_{frame + 1:06d}.jpg"), source, shift)


# SPIN's / mmpose's npz.

def write_spin_npz(path, joint_set, imgnames, poses=None, image_root=None, root_relative=False):
  """SPIN's npz of the person, row i moved 0.1 i m sideways; images under image_root. With
  root_relative, 'S' is moved to the pelvis, as SPIN's own files are (mmpose's are not)."""
  shifts = [(0.1 * i, 0, 0) for i in range(len(imgnames))]
  points3d = np.stack([body(joint_set, s) for s in shifts])
  known = np.ones((len(imgnames), len(joint_set), 1))
  if joint_set is joints.SPIN_24:  # as in SPIN's Human3.6M file: no head top, no face
    known[:, joint_set.indices(["head_top", "thorax", "nose", "left_eye", "right_eye",
                                "left_ear", "right_ear"])] = 0
  part = np.concatenate([np.stack([project(p) for p in points3d]), known], 2) * known
  low, high = part[..., :2].min(1), part[..., :2].max(1)
  if root_relative:
    points3d = points3d - points3d[:, [joint_set.index("pelvis")]]
  fields = {"imgname": np.array(imgnames), "center": (low + high) / 2,
            "scale": 1.2 * (high - low).max(1) / 200, "part": part,
            "S": np.concatenate([points3d, known], 2) * known}
  if poses is not None:
    fields.update(pose=np.asarray(poses, np.float64), shape=np.ones((len(imgnames), 10)))
  os.makedirs(os.path.dirname(path), exist_ok=True)
  np.savez(path, **fields)
  for name, shift in zip(imgnames, shifts):
    _image(os.path.join(image_root or os.path.dirname(path), name), joint_set, shift)


# 3DPW.

def write_pw3d_sequence(root, split, sequence, valid, camera_rotation, camera_root):
  """sequenceFiles/<split>/<sequence>.pkl (pickle protocol 2, as the Python-2 release) and
  its images; one person, the same view in every frame.

  camera_root: [3, 3] the SMPL root orientation in the camera frame; the pkl stores it in the
  world frame, camera_rotation^T · camera_root.
  """
  frames = len(valid)
  pose = np.zeros(72)
  pose[:3] = Rotation.from_matrix(camera_rotation.T @ camera_root).as_rotvec()
  pose[3:] = 0.1
  points2d = project(body(joints.OPENPOSE_18))
  poses2d = np.concatenate([points2d, np.full((18, 1), 0.8)], 1).T  # [3, 18]
  cam_poses = np.tile(np.eye(4), (frames, 1, 1))
  cam_poses[:, :3, :3] = camera_rotation
  fx, fy, cx, cy = INTRINSICS
  data = {
      "sequence": sequence, "genders": ["f"], "img_frame_ids": np.arange(frames),
      "poses": [np.tile(pose, (frames, 1))], "trans": [np.zeros((frames, 3))],
      "betas": [np.linspace(-1, 1, 300)], "poses2d": [np.tile(poses2d, (frames, 1, 1))],
      "jointPositions": [np.zeros((frames, 72))], "campose_valid": [np.array(valid, bool)],
      "cam_poses": cam_poses, "cam_intrinsics": np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]])}
  os.makedirs(os.path.join(root, "sequenceFiles", split), exist_ok=True)
  with open(os.path.join(root, "sequenceFiles", split, f"{sequence}.pkl"), "wb") as f:
    pickle.dump(data, f, protocol=2)
  for frame in range(frames):
    _image(os.path.join(root, "imageFiles", sequence, f"image_{frame:05d}.jpg"),
           joints.OPENPOSE_18, (0, 0, 0))
  return pose

