"""Every body-model file format, read from fixtures the tests write in that format."""

import dataclasses
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import smpl_files
from hmr_tf import safe_pickle
from hmr_tf.body import load_body_model, save_body_model


@pytest.fixture(scope="module")
def model():
  return smpl_files.random_body_model()  # SMPL's exact sizes


def _assert_same_arrays(loaded, expected, num_betas=10):
  np.testing.assert_array_equal(loaded.v_template, expected.v_template)
  np.testing.assert_array_equal(loaded.shapedirs, expected.shapedirs[:, :, :num_betas])
  np.testing.assert_array_equal(loaded.posedirs, expected.posedirs)
  np.testing.assert_array_equal(loaded.J_regressor, expected.J_regressor)
  np.testing.assert_array_equal(loaded.weights, expected.weights)
  np.testing.assert_array_equal(loaded.parents, expected.parents)
  np.testing.assert_array_equal(loaded.faces, expected.faces)


def test_smpl_v1_pickle_with_chumpy_objects_and_sparse_regressor(model, tmp_path):
  path = tmp_path / "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl"
  smpl_files.write_smpl_v1_pkl(model, path)
  with open(path, "rb") as f:
    raw = f.read()
  assert raw[:2] == b"\x80\x02"  # protocol 2, as the official files
  assert b"chumpy.ch" in raw and b"scipy.sparse.csc" in raw
  assert "chumpy" not in sys.modules
  loaded = load_body_model(path)
  _assert_same_arrays(loaded, model)
  assert loaded.parents[0] == -1 and loaded.regressors == {}


def test_hmr_cocoplus_pickle(model, tmp_path):
  path = tmp_path / "neutral_smpl_with_cocoplus_reg.pkl"
  smpl_files.write_smpl_v1_pkl(model, path, cocoplus=True)
  loaded = load_body_model(path)
  _assert_same_arrays(loaded, model)
  np.testing.assert_array_equal(loaded.regressors["cocoplus"], model.regressors["cocoplus"])


def test_smpl_v11_pickle_keeps_the_first_betas(model, tmp_path):
  path = tmp_path / "SMPL_NEUTRAL.pkl"
  smpl_files.write_smpl_v11_pkl(model, path)
  _assert_same_arrays(load_body_model(path), model)
  assert load_body_model(path, num_betas=300).num_betas == 300


def test_smplx_npz(model, tmp_path):
  path = tmp_path / "SMPL_NEUTRAL.npz"
  smpl_files.write_smplx_npz(model, path)
  _assert_same_arrays(load_body_model(path), model)
  assert load_body_model(path, num_betas=16).num_betas == 16


def test_own_npz_round_trip_and_extra_regressor(model, tmp_path):
  h36m = np.random.default_rng(0).random((17, model.num_vertices))
  np.save(tmp_path / "J_regressor_h36m.npy", h36m)
  with_h36m = load_body_model(_saved(model, tmp_path / "a.npz"),
                              regressors={"h36m": str(tmp_path / "J_regressor_h36m.npy")})
  path = tmp_path / "b.npz"
  save_body_model(with_h36m, path)
  loaded = load_body_model(path)
  _assert_same_arrays(loaded, model)
  np.testing.assert_array_equal(loaded.regressors["h36m"], h36m)
  np.testing.assert_array_equal(loaded.regressors["cocoplus"], model.regressors["cocoplus"])


def test_zero_posedirs_are_not_stored(tmp_path):
  model = smpl_files.random_body_model(num_verts=200)
  no_correctives = dataclasses.replace(model, posedirs=np.zeros_like(model.posedirs))
  path = _saved(no_correctives, tmp_path / "m.npz")
  assert "posedirs" not in np.load(path).files
  np.testing.assert_array_equal(load_body_model(path).posedirs, no_correctives.posedirs)


def test_the_fingerprint_names_the_arrays_whatever_the_file_dtype_or_zero_sign(tmp_path):
  model = smpl_files.random_body_model(num_verts=200)
  as_float32 = dataclasses.replace(model, v_template=model.v_template.astype(np.float32))
  assert as_float32.fingerprint != model.fingerprint  # other numbers, another body
  widened = dataclasses.replace(model, v_template=as_float32.v_template.astype(np.float64))
  assert dataclasses.replace(as_float32).fingerprint == widened.fingerprint  # same numbers
  signed = model.shapedirs.copy()
  signed[0, 0, 0] = 0.0
  negative_zero = signed.copy()
  negative_zero[0, 0, 0] = -0.0
  assert (dataclasses.replace(model, shapedirs=signed).fingerprint
          == dataclasses.replace(model, shapedirs=negative_zero).fingerprint)
  moved = model.v_template.copy()
  moved[7, 1] += 1e-12
  assert dataclasses.replace(model, v_template=moved).fingerprint != model.fingerprint
  loaded = load_body_model(_saved(model, tmp_path / "m.npz"))
  assert loaded.fingerprint == model.fingerprint and loaded.source != model.source


def test_a_model_file_whose_arrays_no_longer_match_its_fingerprint_is_refused(tmp_path):
  path = _saved(smpl_files.random_body_model(num_verts=200), tmp_path / "m.npz")
  with np.load(path) as npz:
    arrays = dict(npz)
  arrays["v_template"] = arrays["v_template"] + 1e-3
  np.savez(path, **arrays)
  with pytest.raises(ValueError, match=r"m\.npz: field 'fingerprint' .* modified or damaged"):
    load_body_model(path)


def _saved(model, path):
  save_body_model(model, path)
  return str(path)


class _Exploit:
  def __init__(self, marker):
    self.marker = marker

  def __reduce__(self):
    return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_rejected_without_running(tmp_path):
  marker = tmp_path / "pwned"
  path = tmp_path / "evil.pkl"
  with open(path, "wb") as f:
    pickle.dump({"v_template": _Exploit(marker)}, f, protocol=2)
  with pytest.raises(pickle.UnpicklingError, match=r"evil.pkl: refusing to load '(posix|os)\.system'"):
    load_body_model(path)
  assert not marker.exists()


def test_restricted_unpickler_refuses_builtins_eval():
  payload = pickle.dumps({"x": eval}, protocol=2)  # a global that would be callable later
  with pytest.raises(pickle.UnpicklingError, match="builtins.eval"):
    safe_pickle.loads(payload)


def test_missing_key_is_named(model, tmp_path):
  path = tmp_path / "partial.npz"
  np.savez(path, v_template=model.v_template, shapedirs=model.shapedirs)
  with pytest.raises(ValueError, match=r"partial.npz.*missing key\(s\) \['posedirs'"):
    load_body_model(path)


def test_wrong_shape_is_reported(model, tmp_path):
  path = tmp_path / "bad.npz"
  np.savez(path, v_template=model.v_template, shapedirs=model.shapedirs,
           posedirs=model.posedirs[:, :, :100], J_regressor=model.J_regressor,
           weights=model.weights, kintree_table=smpl_files._kintree(model),  # pylint: disable=protected-access
           f=model.faces)
  with pytest.raises(ValueError, match=r"bad.npz: expected posedirs of shape \[6890, 3, 207\], "
                                       r"found \[6890, 3, 100\]"):
    load_body_model(path)


def test_smplh_is_refused_with_a_reason(tmp_path):
  path = tmp_path / "smplh.npz"
  np.savez(path, v_template=np.zeros((10, 3)), shapedirs=np.zeros((10, 3, 10)),
           posedirs=np.zeros((10, 3, 459)), J_regressor=np.zeros((52, 10)),
           weights=np.zeros((10, 52)), kintree_table=np.zeros((2, 52)), f=np.zeros((4, 3)))
  with pytest.raises(ValueError, match="expected an SMPL model with 24 joints, found 52"):
    load_body_model(path)


def test_too_many_betas_requested(model, tmp_path):
  path = tmp_path / "m.pkl"
  smpl_files.write_smpl_v1_pkl(model, path)
  with pytest.raises(ValueError, match="has 10 shape components, 300 were requested"):
    load_body_model(path, num_betas=300)


def test_missing_file():
  with pytest.raises(FileNotFoundError, match="no body-model file at /nonexistent.pkl"):
    load_body_model("/nonexistent.pkl")


def test_convert_command(model, tmp_path):
  source = tmp_path / "basicModel_f_lbs_10_207_0_v1.0.0.pkl"
  smpl_files.write_smpl_v1_pkl(model, source)
  target = tmp_path / "smpl_female.npz"
  subprocess.run([sys.executable, "-m", "hmr_tf.cli.body", "convert", str(source), str(target)],
                 check=True, capture_output=True)
  _assert_same_arrays(load_body_model(target), model)
  assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_convert_command_usage_error():
  result = subprocess.run([sys.executable, "-m", "hmr_tf.cli.body", "convert", "only-one"],
                          capture_output=True, text=True)
  assert result.returncode != 0
  assert "hmr-body convert IN OUT.npz" in result.stderr
