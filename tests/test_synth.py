"""The synthetic world against independent expectations: a hand-written pinhole projection, the
SMPL layer run again on the stored parameters, and views whose occlusions are known."""

import dataclasses
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from scipy.spatial import transform
import tensorflow as tf

import smpl_files
from hmr_tf import joints
from hmr_tf.body import SMPL
from hmr_tf.body import free_body_model
from hmr_tf.data import schema
from hmr_tf.data import shards
from hmr_tf.synth import SynthWorld
from hmr_tf.synth import backgrounds
from hmr_tf.synth import poses
from hmr_tf.synth import scene

SIZE = 64
LSP = joints.COCOPLUS_19


@pytest.fixture(scope="module")
def world():
  return SynthWorld(["free"], image_size=SIZE, seed=7)


def _parsed(person):
  """A PersonExample through serialisation and schema.parse_person, as numpy."""
  serialized = schema.person_example(person).SerializeToString()
  return {k: v.numpy() for k, v in schema.parse_person(tf.constant(serialized)).items()}


def _pinhole(points, intrinsics):
  """[N, 2] u = fx·x/z + cx, v = fy·y/z + cy."""
  fx, fy, cx, cy = intrinsics
  return np.stack([fx * points[:, 0] / points[:, 2] + cx, fy * points[:, 1] / points[:, 2] + cy], 1)


def _side_view(world, heading_degrees):
  """Sample 0 redrawn standing with arms down at the sides, turned `heading_degrees` from facing
  the camera, centred and unblurred."""
  pose = np.zeros((24, 3))
  pose[0] = (transform.Rotation.from_euler("x", 180, degrees=True)
             * transform.Rotation.from_euler("y", heading_degrees, degrees=True)).as_rotvec()
  pose[LSP_INDEX("left_shoulder")] = [0, 0, -1.35]
  pose[LSP_INDEX("right_shoulder")] = [0, 0, 1.35]
  sample = world.sample(0)
  return dataclasses.replace(sample, pose=pose.reshape(-1), shape=np.zeros(10),
                             center=np.full(2, (SIZE - 1) / 2), size=0.45 * SIZE)


LSP_INDEX = joints.SMPL_24.index


def test_same_seed_gives_identical_examples_in_any_order(world):
  indices = [0, 5, 31, 32, 33]  # across a chunk boundary
  first = {i: world(i)[0].SerializeToString(deterministic=True) for i in indices}
  fresh = SynthWorld(["free"], image_size=SIZE, seed=7)
  again = {i: fresh(i)[0].SerializeToString(deterministic=True) for i in reversed(indices)}
  assert first == again
  other = SynthWorld(["free"], image_size=SIZE, seed=8)
  assert other.person(0).jpeg != world.person(0).jpeg


def test_keypoints2d_are_the_pinhole_projection_of_keypoints3d(world):
  checked = 0
  for index in range(12):
    person = _parsed(world.person(index))
    visible = person["keypoints2d"][:len(joints.LSP_14), 2] > 0
    expected = _pinhole(person["keypoints3d"], person["camera/intrinsics"])
    np.testing.assert_allclose(person["keypoints2d"][:len(joints.LSP_14), :2][visible],
                               expected[visible], atol=1e-3)
    checked += visible.sum()
  assert checked > 100


def test_keypoints_without_rendering_are_the_rendered_peoples(world):
  points3d, points2d = world.keypoints([3, 4, 40])  # the last in another chunk
  assert points3d.shape == (3, 19, 3) and points2d.shape == (3, 19, 2)
  for person, keypoints3d, keypoints2d in zip([_parsed(world.person(i)) for i in (3, 4, 40)],
                                              points3d, points2d):
    np.testing.assert_allclose(keypoints3d[:len(joints.LSP_14)], person["keypoints3d"],
                               atol=1e-5)
    visible = person["keypoints2d"][:, 2] > 0
    np.testing.assert_allclose(keypoints2d[visible], person["keypoints2d"][visible, :2],
                               atol=1e-3)
    np.testing.assert_allclose(keypoints2d, _pinhole(keypoints3d, person["camera/intrinsics"]),
                               atol=1e-3)


def test_stored_smpl_parameters_reproduce_the_keypoints(world):
  smpl = SMPL("free")
  people = [_parsed(world.person(i)) for i in range(8)]
  out = smpl(np.stack([p["smpl/pose"] for p in people]), np.stack([p["smpl/shape"] for p in people]))
  for person, keypoints in zip(people, out["keypoints"].numpy()):
    # The schema keeps no translation; the 3D keypoints give it (and must agree on it).
    offsets = person["keypoints3d"] - keypoints[:len(joints.LSP_14)]
    np.testing.assert_allclose(offsets, np.broadcast_to(offsets.mean(0), offsets.shape), atol=1e-4)
    projected = _pinhole(keypoints + offsets.mean(0), person["camera/intrinsics"])
    visible = person["keypoints2d"][:, 2] > 0
    np.testing.assert_allclose(person["keypoints2d"][visible, :2], projected[visible], atol=0.02)
    assert person["has_3d"] == 1 and person["has_smpl"] == 1
    assert person["dataset"] == b"synth"


def test_the_far_wrist_and_ear_of_a_side_view_are_hidden(world):
  person = world.people([_side_view(world, 90)], ["side"])[0]
  depth = {name: person.keypoints3d[LSP.index(name), 2] for name in ("left_wrist", "right_wrist")}
  far, near = sorted(depth, key=depth.get, reverse=True)
  seen = person.keypoints2d[:, 2]
  assert seen[LSP.index(far)] == 0 and seen[LSP.index(near)] == 1
  # Turned 90° the body shows its right side (heading rotates its left away from the camera).
  assert far == "left_wrist"
  assert seen[LSP.index("left_ear")] == 0 and seen[LSP.index("right_ear")] == 1
  assert np.all(person.keypoints2d[seen == 0, :2] == 0)


def test_a_frontal_view_sees_every_keypoint_but_the_ears(world):
  person = world.people([_side_view(world, 0)], ["front"])[0]
  seen = person.keypoints2d[:, 2]
  ears = LSP.indices(["left_ear", "right_ear"])
  assert np.all(np.delete(seen, ears) == 1)


def test_keypoints_outside_the_image_have_visibility_zero(world):
  sample = dataclasses.replace(_side_view(world, 0), center=np.array([SIZE / 2, SIZE * 1.1]),
                               size=1.2 * SIZE)
  person = world.people([sample], ["cut"])[0]
  projected = _pinhole(person.keypoints3d, person.intrinsics)
  outside = np.any((projected < -0.5) | (projected > SIZE - 0.5), axis=1)
  assert outside.sum() >= 4 and (~outside).sum() >= 4  # the legs leave, the head stays
  assert np.all(person.keypoints2d[:len(joints.LSP_14)][outside, 2] == 0)
  assert np.all(person.keypoints2d[:len(joints.LSP_14)][outside, :2] == 0)
  assert person.keypoints2d[LSP.index("head_top"), 2] == 1


def test_the_person_fills_the_schema_fraction_of_the_image(world):
  ratios, offsets = [], []
  for index in range(40):
    person = world.person(index)
    projected = _pinhole(person.keypoints3d, person.intrinsics)
    diagonal = np.linalg.norm(projected.max(0) - projected.min(0))
    ratios.append(diagonal / (schema.PERSON_SIZE * SIZE / schema.REFERENCE_SIZE))
    offsets.append(np.abs(person.center - (SIZE - 1) / 2).max() / SIZE)
  # The 14 body joints span a little less than the 19 keypoints that are framed.
  assert 0.8 < np.median(ratios) < 1.1
  assert np.median(offsets) < scene.SHIFT and max(offsets) <= scene.TRUNCATION_SHIFT + 0.02
  assert np.mean(np.array(ratios) > 1.25) < 0.4  # truncated close-ups are the exception


def test_place_frames_the_keypoints_exactly():
  rng = np.random.default_rng(0)
  keypoints = rng.normal(scale=[0.3, 0.8, 0.2], size=(5, 19, 3))
  focal, size, center = rng.uniform(60, 200, 5), rng.uniform(30, 60, 5), rng.uniform(20, 40, (5, 2))
  translation = scene.place(keypoints, focal, 31.5, size, center)
  for k, t, f, s, c in zip(keypoints, translation, focal, size, center):
    uv = _pinhole(k + t, (f, f, 31.5, 31.5))
    np.testing.assert_allclose(np.linalg.norm(uv.max(0) - uv.min(0)), s, rtol=1e-3)
    np.testing.assert_allclose((uv.max(0) + uv.min(0)) / 2, c, atol=0.05)


def test_sampled_poses_bend_knees_and_elbows_one_way_and_stand_upright():
  rng = np.random.default_rng(1)
  for _ in range(200):
    pose = poses.sample_pose(rng).reshape(24, 3)
    rotations = transform.Rotation.from_rotvec(pose)
    for knee in ("left_knee", "right_knee"):  # the shin swings backwards (-z) only
      assert rotations[LSP_INDEX(knee)].apply([0, -1, 0])[2] <= 0.03
    for elbow, arm in (("left_elbow", [1, 0, 0]), ("right_elbow", [-1, 0, 0])):  # forwards only
      assert rotations[LSP_INDEX(elbow)].apply(arm)[2] >= -0.03
    up = rotations[0].apply([0, 1, 0])  # the body's up, in the camera frame (y down)
    assert up[1] < -np.cos(np.radians(22))


def _write_mocap(directory, pose_rows):
  os.makedirs(directory)
  with tf.io.TFRecordWriter(os.path.join(directory, shards.shard_name("train", 0, 1))) as writer:
    for i, pose in enumerate(pose_rows):
      writer.write(schema.mocap_example(pose, np.zeros(10), f"test/{i}").SerializeToString())


def test_poses_come_from_the_mocap_shards_when_given(tmp_path):
  rng = np.random.default_rng(2)
  mocap_poses = rng.uniform(-0.3, 0.3, size=(3, 72)).astype(np.float32)
  _write_mocap(tmp_path / "mocap", mocap_poses)
  mocap_world = SynthWorld(["free"], image_size=SIZE, mocap=str(tmp_path / "mocap"))
  for index in range(6):
    body = mocap_world.sample(index).pose[3:]
    assert np.min(np.abs(mocap_poses[:, 3:] - body).max(axis=1)) < 1e-6
  assert mocap_world.person(0).keypoints2d[:, 2].any()


def test_background_photos_are_used(tmp_path):
  os.makedirs(tmp_path / "photos" / "sub")
  for name in ("a.png", "sub/b.jpg"):
    cv2.imwrite(str(tmp_path / "photos" / name), np.full((300, 400, 3), (0, 0, 255), np.uint8))
  photo_world = SynthWorld(["free"], image_size=SIZE, backgrounds=str(tmp_path / "photos"))
  corners = []
  for index in range(8):
    image = cv2.imdecode(np.frombuffer(photo_world.person(index).jpeg, np.uint8), cv2.IMREAD_COLOR)
    corners.append(image[[0, 0, -1, -1], [0, -1, 0, -1]].mean(0))  # BGR
  red = [np.all(np.abs(c - [0, 0, 255]) < 30) for c in corners]
  assert 2 <= sum(red) < 8  # photos PHOTO_PROBABILITY of the time, procedural otherwise


def test_procedural_backgrounds_vary():
  rng = np.random.default_rng(3)
  images = [backgrounds.procedural(rng, 48) for _ in range(20)]
  assert all(i.shape == (48, 48, 3) and i.dtype == np.uint8 for i in images)
  assert np.std([i.mean() for i in images]) > 10 and np.mean([i.std() for i in images]) > 5


def test_any_smpl_layout_body_model_renders():
  model = smpl_files.random_body_model(num_verts=300, seed=4)
  person = SynthWorld([model], image_size=32).person(3)
  assert person.jpeg[:2] == b"\xff\xd8" and person.keypoints2d.shape == (19, 3)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"body_models": []}, ValueError, "body_models"),
    ({"body_models": "free"}, ValueError, "body_models"),
    ({"image_size": 8}, ValueError, "image_size"),
    ({"seed": -1}, ValueError, "seed"),
])
def test_bad_arguments_are_refused(kwargs, error, match):
  with pytest.raises(error, match=match):
    SynthWorld(**{"body_models": ["free"], **kwargs})


@pytest.mark.parametrize("model, match", [
    (smpl_files.random_body_model(num_verts=50, cocoplus=False), "cocoplus"),
    (smpl_files.random_body_model(num_verts=50, num_betas=16), "10 betas"),
])
def test_unusable_body_models_are_refused(model, match):
  with pytest.raises(ValueError, match=match):
    SynthWorld([model]).person(0)


def test_missing_mocap_or_backgrounds_are_named(tmp_path):
  with pytest.raises(FileNotFoundError, match="no 'train' shards"):
    SynthWorld(["free"], mocap=str(tmp_path)).sample(0)
  with pytest.raises(FileNotFoundError, match="not found"):
    SynthWorld(["free"], backgrounds=str(tmp_path / "absent")).person(0)
  with pytest.raises(ValueError, match="holds no images"):
    SynthWorld(["free"], backgrounds=str(tmp_path)).person(0)


def _hmr_synth(*args, patch="", env=None):
  """hmr-synth in a subprocess; `patch` is Python run first, e.g. to make the disk full."""
  code = f"{patch}\nfrom hmr_tf.cli import synth\nsynth.run()"
  return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                        text=True, check=False, env=env)


def test_cli_with_no_network_and_an_empty_cache_writes_shards_and_refuses_another_seed(tmp_path):
  cache = tmp_path / "cache"
  # pip can reach no index and finds no local wheel: any attempt to build a body would fail.
  env = {k: v for k, v in os.environ.items() if k != "HMR_TF_WHEEL"}
  env.update(HMR_TF_CACHE=str(cache), PIP_INDEX_URL="http://127.0.0.1:9", PIP_NO_CACHE_DIR="1")
  out = tmp_path / "synth"
  # The default body mix: lite neutral, male and female.
  args = ("--num=5", "--image_size=32", f"--output={out}", "--items_per_shard=2")
  result = _hmr_synth(*args, env=env)
  assert result.returncode == 0, result.stderr
  assert f"hmr-synth: kept 5 examples in {out} (train 5), skipped 0\n" in result.stderr
  assert len(shards.shard_files(out, "train")) == 3
  info = json.loads((out / "info.json").read_text())
  assert info["dataset"] == "synth" and info["joint_set"] == "cocoplus_19"
  assert info["body_models"] == ["free:lite:neutral", "free:lite:male", "free:lite:female"]
  assert info["image_size"] == 32
  assert info["seeds"] == {"train": 0} and info["splits"]["train"]["examples"] == 5
  assert not cache.exists()
  written = lambda: {n: os.path.getmtime(out / n) for n in os.listdir(out) if n != ".lock"}
  before = written()
  result = _hmr_synth(*args, "--seed=1", env=env)
  assert result.returncode == 1 and result.stderr.splitlines()[-1] == (
      f"hmr-synth: {out} holds 'train' shards made with other settings: seed 0 there, 1 now. "
      f"To start over, delete {out}, or write to another folder")
  assert written() == before


# Python run before hmr-synth: the disk fills up at the first shard, or the folder is read-only
# (simulated: tests run as root here, where chmod does not stop writes).
_FAILURES = {
    "full": ("import tensorflow as tf\nreal = tf.io.TFRecordWriter\n"
             "tf.io.TFRecordWriter = lambda path: real('/dev/full')",
             "/dev/full; No space left on device"),
    "read_only": ("import errno, os\nfrom hmr_tf import atomic\n"
                  "def read_only(directory, name):\n"
                  "  raise OSError(errno.EROFS, os.strerror(errno.EROFS), directory)\n"
                  "atomic.new_temp_file = read_only",
                  "Read-only file system"),
}


@pytest.mark.parametrize("failure", sorted(_FAILURES))
def test_cli_names_a_full_or_read_only_output_folder_in_one_line(tmp_path, failure):
  if failure == "full" and not os.path.exists("/dev/full"):
    pytest.skip("no /dev/full here to fill")
  patch, reason = _FAILURES[failure]
  out = tmp_path / "synth"
  result = _hmr_synth("--body_model=free", "--num=2", "--image_size=32", f"--output={out}",
                      patch=patch)
  assert result.returncode == 1 and "Traceback" not in result.stderr
  assert result.stderr.splitlines()[-1].startswith(
      f"hmr-synth: cannot write to {out}: {reason}")
  assert not [n for n in os.listdir(out) + os.listdir(out / ".progress")
              if n.endswith((".tfrecord", ".tfrecord.json", ".tmp")) or n == "info.json"]


def _other_split_info(directory, fingerprint):
  shards.write_info(directory, "synth", {"train": shards.SplitStats()}, extra={
      "body_models": ["free"], "body_model_fingerprints": [fingerprint], "image_size": 32,
      "seeds": {"train": 0}})


def test_cli_refuses_a_seed_another_split_used(tmp_path):
  _other_split_info(tmp_path, free_body_model().fingerprint)
  result = _hmr_synth("--body_model=free", "--num=5", "--image_size=32", f"--output={tmp_path}",
                      "--split=test", "--seed=0")
  assert result.returncode == 1 and "split 'train' was rendered with seed 0" in result.stderr
  assert "Traceback" not in result.stderr
  assert not [n for n in os.listdir(tmp_path) if n.endswith(".tfrecord")]


def test_cli_refuses_to_mix_another_body_of_the_same_name_into_a_folder(tmp_path):
  _other_split_info(tmp_path, "0" * 64)  # "free" was another body when train was rendered
  result = _hmr_synth("--body_model=free", "--num=5", "--image_size=32", f"--output={tmp_path}",
                      "--split=test", "--seed=1")
  assert result.returncode == 1 and "other bodies under the same names" in result.stderr
  assert not [n for n in os.listdir(tmp_path) if n.endswith(".tfrecord")]


def test_every_gender_of_the_lite_body_ships(monkeypatch, tmp_path):
  monkeypatch.setenv("HMR_TF_CACHE", str(tmp_path / "empty_cache"))
  person = SynthWorld(["free:lite:male"], image_size=SIZE).person(0)
  assert person.keypoints2d[:, 2].any()
  assert not os.path.exists(tmp_path / "empty_cache")  # nothing was built


def test_joint_limit_pose_pool_is_in_range_deterministic_and_readable(tmp_path):
  from hmr_tf.data import pipeline  # pylint: disable=import-outside-toplevel
  from hmr_tf.synth import pose_pool  # pylint: disable=import-outside-toplevel
  pool = pose_pool.JointLimitPoses(seed=3)
  first = [pool(i)[0].SerializeToString(deterministic=True) for i in range(20)]
  assert first == [pool(i)[0].SerializeToString(deterministic=True) for i in range(20)]
  pose_pool.write_pose_pool(str(tmp_path), 40, seed=3, items_per_shard=16)
  batch = next(iter(pipeline.mocap_dataset([str(tmp_path)], 8, seed=0)))
  assert batch["pose"].shape == (8, 72) and batch["shape"].shape == (8, 10)
  # Knees only flex, about their +x axis, by at most 140°, whatever the sampler's Euler order.
  pose = batch["pose"].numpy().reshape(-1, 24, 3)
  for knee in joints.SMPL_24.indices(["left_knee", "right_knee"]):
    angle = np.linalg.norm(pose[:, knee], axis=-1)
    assert np.all(angle <= np.radians(140) + 1e-4)
    flexed = angle > 0.2
    assert np.all(pose[flexed, knee, 0] / angle[flexed] > 0.9)
  assert np.abs(pose[:, 0]).max() < np.radians(9)  # the root: an upright lean only
