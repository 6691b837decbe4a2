"""Broken input files: each reader raises checks.BadInput naming the file (and the field).

Every fixture is written here, broken the way a partial download, a careless export or a
foreign tool breaks a file: truncated, empty, the wrong type, NaN, text where numbers belong.
"""

import json
import os
import pickle
import subprocess
import sys

import h5py
import numpy as np
import pytest
import scipy.sparse

import datasets_2d
import hostile_pickles
import smpl_files
from hmr_tf import checks
from hmr_tf import joints
from hmr_tf.body import load_body_model
from hmr_tf.body import save_body_model
from hmr_tf.body.mean_params import load_mean_params
from hmr_tf.datasets import coco
from hmr_tf.datasets import keypoints2d
from hmr_tf.datasets import mpi_inf_3dhp
from hmr_tf.datasets import person_crop
from hmr_tf.datasets import pw3d
from hmr_tf.datasets import raw_files
from hmr_tf.datasets import spin_npz

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def model():
  return smpl_files.random_body_model(num_verts=40, cocoplus=False)


def _truncated(path, keep=0.5):
  data = path.read_bytes()
  path.write_bytes(data[:int(len(data) * keep)])
  return path


# ---------------------------------------------------------------- body-model files


def _own_npz(model, path, **changes):
  """Our .npz format, with arrays replaced (saved without its fingerprint where changed)."""
  save_body_model(model, path)
  if changes:
    data = dict(np.load(path))
    data.update(changes)
    del data["fingerprint"]
    np.savez(path, **data)
  return path


@pytest.mark.parametrize("breakage, reason", [
    (lambda m, p: _truncated(_own_npz(m, p)), "not a readable .npz file"),
    (lambda m, p: p.write_bytes(b""), "not a readable .npz file"),
    (lambda m, p: _own_npz(m, p, faces=np.array([[0, 1, "x"]], object)),
     "field 'faces': holds Python objects"),
    (lambda m, p: _own_npz(m, p, format_version=np.array("one")),
     r"'format_version' 1, found 'hmr_tf.body_model' and array\('one'"),
    (lambda m, p: _own_npz(m, p, v_template=np.where(np.arange(120).reshape(40, 3) == 7, np.nan,
                                                     m.v_template)),
     "expected v_template to be finite, found 1 NaN or infinite values"),
    (lambda m, p: _own_npz(m, p, weights=m.weights.astype(str)),
     r"expected weights and a numeric dtype, found \[40, 24\] text"),
], ids=["truncated", "empty", "objects", "format_version", "nan", "text"])
def test_a_broken_body_model_npz_is_named(model, tmp_path, breakage, reason):
  path = tmp_path / "model.npz"
  breakage(model, path)
  with pytest.raises(checks.BadInput, match=r"model\.npz: .*" + reason):
    load_body_model(path)


@pytest.mark.parametrize("breakage, reason", [
    (lambda m, p: _truncated(_smpl_pickle(m, p)), "not a readable pickle"),
    (lambda m, p: _smpl_pickle(m, p, J_regressor=hostile_pickles.sparse(
        scipy.sparse.csc_matrix, [1, 2])),
     r"field 'J_regressor' \(csc sparse matrix\): expected a dict state, found list"),
    (lambda m, p: _smpl_pickle(m, p, f=m.faces + 0.5), "expected f to hold indices"),
    (lambda m, p: p.write_bytes(pickle.dumps([1, 2], protocol=2)),
     "expected a pickled dict of SMPL arrays, found list"),
], ids=["truncated", "sparse_state", "faces", "not_a_dict"])
def test_a_broken_smpl_pickle_is_named(model, tmp_path, breakage, reason):
  path = tmp_path / "basicModel_f_lbs_10_207_0_v1.0.0.pkl"
  breakage(model, path)
  with pytest.raises(checks.BadInput, match=r"v1\.0\.0\.pkl: .*" + reason):
    load_body_model(path)


def _smpl_pickle(model, path, **changes):
  smpl_files.write_smpl_v11_pkl(model, path, total_betas=12)
  if changes:
    with open(path, "rb") as f:
      data = pickle.load(f)
    data.update(changes)
    with open(path, "wb") as f:
      pickle.dump(data, f, protocol=2)
  return path


@pytest.mark.parametrize("breakage, message", [
    (lambda p: None, "hmr-body convert: no body-model file at {path}"),
    (lambda p: p.write_bytes(b"\x80\x02}q\x00(X"), "hmr-body convert: {path}: not a readable "
                                                   "pickle of arrays (ValueError: "),
], ids=["missing", "truncated"])
def test_hmr_body_convert_reports_an_error_in_one_line(tmp_path, breakage, message):
  path = tmp_path / "model.pkl"
  breakage(path)
  result = subprocess.run([sys.executable, "-m", "hmr_tf.cli.body", "convert", str(path),
                           str(tmp_path / "out.npz")], capture_output=True, text=True,
                          cwd=_ROOT, timeout=120, check=False)
  assert result.returncode == 1
  assert len(result.stderr.strip().splitlines()) == 1, result.stderr
  assert result.stderr.startswith(message.format(path=path)), result.stderr
  assert not os.path.exists(tmp_path / "out.npz")


# ---------------------------------------------------------------- mean parameters


def _mean_h5(path, **datasets):
  with h5py.File(path, "w") as f:
    for name, value in {"pose": np.zeros(72), "shape": np.zeros(10), **datasets}.items():
      if isinstance(value, np.ndarray):
        f[name] = value
      else:
        value(f, name)
  return path


def _external_storage(f, name):
  other = os.path.join(os.path.dirname(f.filename), "elsewhere.bin")
  np.zeros(72).tofile(other)
  f.create_dataset(name, (72,), np.float64, external=[(other, 0, 72 * 8)])


def _external_link(f, name):
  other = os.path.join(os.path.dirname(f.filename), "other.h5")
  with h5py.File(other, "w") as g:
    g["pose"] = np.zeros(72)
  f[name] = h5py.ExternalLink(other, "/pose")


@pytest.mark.parametrize("write, reason", [
    (lambda p: _truncated(_mean_h5(p)), "not a readable HDF5 file"),
    (lambda p: _mean_h5(p, pose=_external_storage), "field 'pose' keeps its data in other files"),
    (lambda p: _mean_h5(p, pose=_external_link), "field 'pose' is an HDF5 ExternalLink"),
    (lambda p: _mean_h5(p, pose=lambda f, n: f.create_group(n)), "field 'pose' is a group"),
    (lambda p: _mean_h5(p, shape=np.full(10, np.inf)), "expected shape to be finite"),
], ids=["truncated", "external_storage", "external_link", "group", "inf"])
def test_a_broken_hmr_mean_params_file_is_named(tmp_path, write, reason):
  path = tmp_path / "neutral_smpl_mean_params.h5"
  write(path)
  with pytest.raises(checks.BadInput, match=r"mean_params\.h5: " + reason):
    load_mean_params(str(path))


def test_a_truncated_spin_mean_params_file_is_named(tmp_path):
  path = tmp_path / "smpl_mean_params.npz"
  np.savez_compressed(path, pose=np.random.default_rng(0).random(144), shape=np.zeros(10))
  with pytest.raises(checks.BadInput, match=r"smpl_mean_params\.npz: not a readable \.npz"):
    load_mean_params(str(_truncated(path)))


# ---------------------------------------------------------------- dataset annotations


def _pw3d_sequence(tmp_path, data):
  folder = tmp_path / "sequenceFiles" / "test"
  folder.mkdir(parents=True)
  path = folder / "seq.pkl"
  path.write_bytes(data if isinstance(data, bytes) else pickle.dumps(data, protocol=2))
  return path


@pytest.mark.parametrize("data, reason", [
    (pickle.dumps({"sequence": "seq", "poses": [np.zeros((3, 72))]}, protocol=2)[:40],
     "not a readable pickle"),  # EOFError
    (pickle.dumps({"sequence": os.system}, protocol=2), "refusing to load"),  # UnpicklingError
    ({"sequence": "seq", "poses": [hostile_pickles.array((1 << 30,), np.dtype("f8"), b"")]},
     "field 'poses\\[0\\]': an array of shape \\[1073741824\\] float64 declares 8 GiB, more "
     "than the limit"),  # MemoryError: 8 GiB declared in a 200-byte file
    ({"sequence": "seq", "poses": 3, "betas": [], "poses2d": [], "campose_valid": [],
      "cam_poses": np.zeros((1, 4, 4)), "cam_intrinsics": np.eye(3)},
     "expected poses to hold one entry per person"),
    ({"sequence": "../../etc", "poses": [], "betas": [], "poses2d": [], "campose_valid": [],
      "cam_poses": np.zeros((1, 4, 4)), "cam_intrinsics": np.eye(3)},
     "expected sequence to be a sequence's name"),
], ids=["truncated", "refused_global", "size_bomb", "poses_not_a_list", "sequence_path"])
def test_a_broken_3dpw_sequence_file_is_named(tmp_path, data, reason):
  _pw3d_sequence(tmp_path, data)
  with pytest.raises(checks.BadInput, match=r"seq\.pkl: .*" + reason):
    pw3d.list_items(str(tmp_path), "test")


def test_a_humandata_npz_without_an_smpl_dict_is_named(tmp_path):
  path = tmp_path / "pw3d_test.npz"
  np.savez(path, image_path=np.array(["a.jpg"]), bbox_xywh=np.zeros((1, 5)),
           smpl=np.array([1.0, 2.0], object))
  with pytest.raises(checks.BadInput, match=r"pw3d_test\.npz: field 'smpl' should be a dict"):
    pw3d.list_items(str(tmp_path), "test")


def test_a_spin_npz_that_is_not_a_zip_is_named(tmp_path):
  path = tmp_path / "h36m_train.npz"
  path.write_bytes(b"PK\x03\x04 but not really a zip archive")
  with pytest.raises(checks.BadInput, match=r"h36m_train\.npz: not a readable \.npz file"):
    spin_npz.read(str(path), {24: joints.SPIN_24})


def test_a_matlab_v73_field_that_is_a_group_is_named(tmp_path):
  path = tmp_path / "annot_data.mat"
  with h5py.File(path, "w") as f:
    f.create_group("annot2")
  with pytest.raises(checks.BadInput, match=r"annot_data\.mat: field 'annot2' is a group"):
    raw_files.load_mat(str(path), ("annot2",))


def test_json_that_is_not_utf8_is_named(tmp_path):
  path = tmp_path / "person_keypoints_train2017.json"
  path.write_bytes(json.dumps({"images": ["café"]}).encode("utf-8").replace(b"\\u00e9", b"\xe9"))
  with pytest.raises(checks.BadInput, match=r"train2017\.json: not valid UTF-8 JSON"):
    raw_files.load_json(str(path))


def test_a_coco_image_id_that_is_not_a_number_is_named(tmp_path):
  annotation = datasets_2d.coco_annotation(5)
  annotation["image_id"] = [1]  # unhashable: a TypeError before
  datasets_2d.write_coco(tmp_path, [annotation])
  with pytest.raises(checks.BadInput, match=r"annotation id 5: field 'image_id' \(\[1\]\)"):
    coco.list_items(tmp_path, "train")


def test_a_3dhp_calibration_with_a_bad_camera_name_is_named(tmp_path):
  path = tmp_path / "camera.calibration"
  path.write_text("Skeletool Camera Calibration File V1.0\nname zero\n")
  with pytest.raises(checks.BadInput, match=r"camera\.calibration: line 2: expected 'name' and "
                                            r"numbers, found 'name zero'"):
    mpi_inf_3dhp.read_calibration(str(path))


# ---------------------------------------------------------------- images


def _png_header_only(width, height):
  """A PNG that declares width × height and holds almost no pixel data."""
  import struct  # pylint: disable=import-outside-toplevel
  import zlib  # pylint: disable=import-outside-toplevel

  def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

  return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0,
                                                            0, 0))
          + chunk(b"IDAT", zlib.compress(bytes(100))) + chunk(b"IEND", b""))


@pytest.mark.parametrize("content, reason", [
    (b"", "empty file, not an image"),
    (b"not an image at all", "not a readable image"),
    (_png_header_only(16000, 16000), "more than the limit of 67,108,864 pixels"),
    (_png_header_only(9000, 9000), "an image of 9000×9000 declares 81,000,000 pixels, more than "
                                   "the limit of 67,108,864 pixels"),
], ids=["empty", "not_an_image", "16000x16000", "9000x9000"])
def test_an_unusable_image_is_named_before_decoding(tmp_path, content, reason):
  path = tmp_path / "im00001.jpg"
  path.write_bytes(content)
  with pytest.raises(checks.BadInput, match=r"im00001\.jpg: .*" + reason):
    person_crop.read_image(str(path))


def test_a_missing_image_is_bad_input_and_file_not_found(tmp_path):
  with pytest.raises(checks.MissingFile, match=r"image file not found: .*im00002\.jpg") as error:
    person_crop.read_image(str(tmp_path / "im00002.jpg"))
  assert isinstance(error.value, FileNotFoundError)


def test_an_absurd_person_size_is_refused_before_rescaling(tmp_path):
  path = tmp_path / "im00001.jpg"
  datasets_2d.write_person_image(path, [(100.0, 100.0)])
  points = np.zeros((len(joints.LSP_14), 3))
  points[:, :2] = 100.0
  points[:, 2] = 1.0
  points[0, 0] += 1e-6  # a person a millionth of a pixel tall: scale 1.5e8
  with pytest.raises(checks.BadInput, match=r"im00001\.jpg: a crop scale of 1\.5e\+08 .* more "
                                            r"than the limit of"):
    keypoints2d.example("lsp", str(path), points, joints.LSP_14, "joints.mat: joints[:, :, 0]",
                        "diagonal")
