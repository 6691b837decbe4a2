"""Files written to attack the readers: each is refused with a clear error, no crash, no memory.

Loads that would crash the process or exhaust memory if the defence failed run in a subprocess
whose address space may grow only _HEADROOM_MB beyond what its imports took, and the test
asserts its exit code and message: a segfault, a MemoryError or a success all fail the test.
"""

import io
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest
import scipy.sparse

import hostile_pickles
import smpl_files
from hmr_tf import array_files
from hmr_tf import checks
from hmr_tf import safe_pickle
from hmr_tf.datasets import bvh

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_HEADROOM_MB = 256
_REFUSED = 3  # the subprocess's exit code for a checks.BadInput
_BOMB_SHAPE = (200_000_000,)  # 1.6 GB of float64: over checks.MAX_ARRAY_BYTES, allocatable


def _load_limited(call, path):
  """Runs `call` (python source naming `path`) in a memory-limited subprocess."""
  script = textwrap.dedent(f"""
      import resource, sys
      from hmr_tf import array_files, checks, safe_pickle
      from hmr_tf.body import model_files
      from hmr_tf.datasets import bvh
      path = {str(path)!r}
      with open("/proc/self/status") as f:
        vm = next(int(l.split()[1]) for l in f if l.startswith("VmSize:")) * 1024
      resource.setrlimit(resource.RLIMIT_AS, (vm + ({_HEADROOM_MB} << 20), resource.RLIM_INFINITY))
      try:
        {call}
      except checks.BadInput as error:
        print(error)
        sys.exit({_REFUSED})
      print("no error")
      """)
  return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                        timeout=120, cwd=_ROOT, check=False)


def _assert_refused(result, path, *phrases):
  assert result.returncode == _REFUSED, (result.returncode, result.stdout, result.stderr[-2000:])
  message = result.stdout.strip()
  assert message.startswith(str(path)), message
  for phrase in phrases:
    assert phrase in message, message


def _body_model_pickle(path, **changes):
  """A small SMPL v1.1.0 pickle (the layout load_body_model reads) with fields replaced."""
  model = smpl_files.random_body_model(num_verts=30, cocoplus=False)
  data = {"v_template": model.v_template, "shapedirs": model.shapedirs,
          "posedirs": model.posedirs, "J_regressor": scipy.sparse.csc_matrix(model.J_regressor),
          "weights": model.weights, "kintree_table": smpl_files._kintree(model),  # pylint: disable=protected-access
          "f": model.faces.astype(np.uint32), **changes}
  with open(path, "wb") as f:
    pickle.dump(data, f, protocol=2)
  return path


# ---------------------------------------------------------------- pickles


@pytest.mark.parametrize("code, flags", [("O8", 0), ("f8", 63)])
def test_a_dtype_state_pickle_is_refused_without_a_crash(tmp_path, code, flags):
  """Objects with their flags cleared (or numbers flagged as objects) would make numpy read the
  file's bytes as object pointers: a segfault when the array is used."""
  evil = hostile_pickles.array((1,), hostile_pickles.dtype(code, flags), b"A" * 8)
  path = _body_model_pickle(tmp_path / "model.pkl", v_template=evil)
  _assert_refused(_load_limited("model_files.load_body_model(path)", path), path,
                  "field 'v_template': refusing dtype state")
  npz = tmp_path / "humandata.npz"  # an object member of an .npz is a pickle too
  with open(npz, "wb") as f:
    np.savez(f, smpl=np.array([None], object))
  _replace_member(npz, "smpl.npy", _npy_bytes(pickle.dumps(evil, protocol=3), "|O", (1,)))
  _assert_refused(_load_limited("array_files.load_npz(path, allow_objects=True)", npz), npz,
                  "field 'smpl': refusing dtype state")


def _npy_bytes(data, descr, shape):
  f = io.BytesIO()
  np.lib.format.write_array_header_1_0(f, {"descr": descr, "fortran_order": False,
                                           "shape": shape})
  return f.getvalue() + data


def _replace_member(path, name, data):
  import zipfile  # pylint: disable=import-outside-toplevel
  with zipfile.ZipFile(path) as archive:
    members = {n: archive.read(n) for n in archive.namelist()}
  members[name] = data
  with zipfile.ZipFile(path, "w") as archive:
    for member, content in members.items():
      archive.writestr(member, content)


def _sparse(dense, **changes):
  matrix = scipy.sparse.csc_matrix(dense)
  state = {"data": matrix.data, "indices": matrix.indices, "indptr": matrix.indptr,
           "_shape": matrix.shape, "maxprint": 50, **changes}
  return hostile_pickles.sparse(scipy.sparse.csc_matrix, state)


def test_a_sparse_regressor_with_indices_out_of_range_is_refused_without_a_crash(tmp_path):
  dense = smpl_files.random_body_model(num_verts=30, cocoplus=False).J_regressor
  indices = scipy.sparse.csc_matrix(dense).indices.copy()
  indices[0] = 10 ** 6
  path = _body_model_pickle(tmp_path / "model.pkl", J_regressor=_sparse(dense, indices=indices))
  _assert_refused(_load_limited("model_files.load_body_model(path)", path), path,
                  "field 'J_regressor'", "row index is outside [0, 24)")


@pytest.mark.parametrize("change, reason", [
    ({"indices": np.full(480, -1, np.int32)}, "row index is outside"),
    ({"indptr": np.arange(31)[::-1].copy()}, "non-decreasing offsets"),
    ({"indptr": np.arange(5)}, "expected indptr of 31"),
    ({"data": np.ones(3)}, "differ in length"),
    ({"indices": np.zeros((2, 2), np.int32)}, "expected indices of shape [N], found [2, 2]"),
    ({"_shape": (24, -30)}, "expected a shape of two sizes"),
    ({"_shape": (10 ** 6, 10 ** 6)}, "more than the limit"),
])
def test_every_malformed_sparse_state_names_its_file_and_field(tmp_path, change, reason):
  dense = np.zeros((24, 30))
  dense[np.arange(24)[:, None], np.arange(20)] = 0.05  # 480 entries
  path = _body_model_pickle(tmp_path / "model.pkl", J_regressor=_sparse(dense, **change))
  with pytest.raises(checks.BadInput, match=r"model\.pkl: field 'J_regressor'") as error:
    safe_pickle.load(path)["J_regressor"].to_dense(path, "J_regressor")
  assert reason in str(error.value)


def test_a_pickle_declaring_a_huge_array_is_refused_before_allocating(tmp_path):
  """_reconstruct would allocate the declared shape at once (a 96-byte file, 1.6 GB)."""
  path = tmp_path / "bomb.pkl"
  bomb = hostile_pickles.array(_BOMB_SHAPE, np.dtype("f8"), b"")
  path.write_bytes(pickle.dumps({"poses": bomb}, protocol=2))
  assert path.stat().st_size < 300
  _assert_refused(_load_limited("safe_pickle.load(path)", path), path,
                  "field 'poses': an array of shape [200000000] float64 declares 1.49 GiB",
                  "more than the limit")


def test_a_pickle_declaring_huge_bytes_is_refused_before_allocating(tmp_path):
  """BINBYTES8 declares its length; the C unpickler would allocate it before reading."""
  path = tmp_path / "bytes.pkl"
  path.write_bytes(b"\x80\x04\x8e" + struct.pack("<Q", 1_500_000_000) + b"only a few bytes")
  _assert_refused(_load_limited("safe_pickle.load(path)", path), path, "not a readable pickle")


def _build_on(global_line, state):
  """A pickle that names a global, then BUILDs `state` onto it: (None, {name: value}) sets
  attributes through the slot-state path; any other state goes to __setstate__."""
  return b"\x80\x02c" + global_line + b"\n" + pickle.dumps(state, protocol=2)[2:-1] + b"b."


@pytest.mark.parametrize("global_line, state", [
    (b"_codecs\nencode", (None, {"__defaults__": ("utf-16",)})),
    (b"copy_reg\n_reconstructor", (None, {"__code__": None})),
    (b"numpy.core.multiarray\n_reconstruct", {"__doc__": "changed"}),
    (b"numpy\ndtype", (None, {"__repr__": None})),
    (b"chumpy.ch\nCh", (None, {"to_array": None})),
    (b"scipy.sparse.csc\ncsc_matrix", {"kind": "coo"}),
])
def test_a_build_on_an_allowed_global_is_refused_and_changes_nothing(global_line, state):
  before = {name: dict(vars(cls)) for name, cls in vars(safe_pickle).items()
            if isinstance(cls, type) and cls.__module__ == safe_pickle.__name__}
  defaults = safe_pickle._latin1_encode.__defaults__  # pylint: disable=protected-access
  with pytest.raises(safe_pickle.BadPickle, match="<bytes>: "):
    safe_pickle.loads(_build_on(global_line, state))
  after = {name: dict(vars(cls)) for name, cls in vars(safe_pickle).items()
           if isinstance(cls, type) and cls.__module__ == safe_pickle.__name__}
  assert after == before
  assert safe_pickle._latin1_encode.__defaults__ == defaults  # pylint: disable=protected-access
  # The loader still reads what it read before: bytes in a protocol-2 pickle, an array.
  loaded = safe_pickle.loads(pickle.dumps({"b": b"\x00\xff", "a": np.arange(3.0)}, protocol=2))
  assert loaded["b"] == b"\x00\xff"
  np.testing.assert_array_equal(loaded["a"], [0.0, 1.0, 2.0])


def test_arrays_of_every_protocol_and_order_round_trip():
  """The arrays safe_pickle builds itself equal numpy's, whatever the pickle's form."""
  values = {"f": np.arange(12.0).reshape(3, 4), "fortran": np.asfortranarray(np.eye(3)[:, :2]),
            "big_endian": np.arange(4, dtype=">i4"), "bool": np.array([True, False]),
            "text": np.array(["ab", "c"]), "scalar": np.float32(2.5), "empty": np.zeros((0, 3)),
            "objects": np.array([{"x": np.ones(2)}, None], object)}
  for protocol in (2, 3, 4, 5):
    loaded = safe_pickle.loads(pickle.dumps(values, protocol=protocol))
    for key, value in values.items():
      if key == "objects":
        np.testing.assert_array_equal(loaded[key][0]["x"], np.ones(2))
        assert loaded[key][1] is None
        continue
      assert np.asarray(loaded[key]).dtype == np.asarray(value).dtype, (protocol, key)
      np.testing.assert_array_equal(loaded[key], value)


# ---------------------------------------------------------------- npz


def _deflated_zeros(prefix, size):
  """Raw deflate data for `prefix` then `size` zero bytes, from repeats of one 1 MiB block (a
  zip bomb: ~1 KB of output per MiB)."""
  block = 1 << 20
  compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
  first = compressor.compress(prefix + bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
  # A full flush resets the compressor: every later block of zeros compresses the same.
  repeat = compressor.compress(bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
  tail = compressor.compress(bytes(size % block)) + compressor.flush()
  return first + repeat * (size // block - 1) + tail


def _write_zip(path, name, uncompressed_size, deflated):
  """A one-member zip archive of already deflated data. The CRC is left 0: the readers refuse
  the member from its header, long before reaching the end where zipfile checks it."""
  name = name.encode()
  local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, len(deflated),
                      uncompressed_size, len(name), 0) + name
  central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, 0, len(deflated),
                        uncompressed_size, len(name), 0, 0, 0, 0, 0, 0) + name
  end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central),
                    len(local) + len(deflated), 0)
  path.write_bytes(local + deflated + central + end)


def test_an_npz_unpacking_to_gigabytes_is_refused_before_allocating(tmp_path):
  path = tmp_path / "poses.npz"
  header = _npy_bytes(b"", "<f8", _BOMB_SHAPE)
  _write_zip(path, "poses.npy", len(header) + 8 * _BOMB_SHAPE[0],
             _deflated_zeros(header, 8 * _BOMB_SHAPE[0]))
  assert path.stat().st_size < 3 << 20
  for call in ("array_files.load_npz(path, allow_objects=True)",
               "model_files.load_body_model(path)"):
    _assert_refused(_load_limited(call, path), path, "field 'poses'", "1.49 GiB",
                    "more than the limit")


def test_an_npz_header_that_disagrees_with_its_entry_is_refused(tmp_path):
  path = tmp_path / "lying.npz"
  np.savez(path, poses=np.zeros(2))
  _replace_member(path, "poses.npy", _npy_bytes(bytes(16), "<f8", (10 ** 6,)))
  with pytest.raises(checks.BadInput, match=r"lying\.npz: field 'poses': the header declares "
                                            r"\[1000000\] float64 \(8000000 bytes\), the file "
                                            r"holds 16 bytes"):
    array_files.load_npz(path)


def test_an_npz_with_an_object_member_is_refused_where_objects_are_not_read(tmp_path):
  path = tmp_path / "objects.npz"
  np.savez(path, v_template=np.array([{"x": 1}], object))
  with pytest.raises(checks.BadInput, match=r"objects\.npz: field 'v_template': holds Python "
                                            r"objects"):
    array_files.load_npz(path)


# ---------------------------------------------------------------- BVH and images


def test_a_bvh_declaring_billions_of_frames_is_refused_at_once(tmp_path):
  path = tmp_path / "long.bvh"
  path.write_text("HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 3 Zrotation Yrotation "
                  "Xrotation\n  End Site\n  {\n    OFFSET 0 1 0\n  }\n}\nMOTION\n"
                  "Frames: 2000000000\nFrame Time: 0.008333\n" + "0 0 0\n" * 600)
  assert path.stat().st_size < 4096
  for call in ("bvh.read(path)", "bvh.read_header(path)"):
    _assert_refused(_load_limited(call, path), path, "MOTION of 2000000000 frames × 3 channels",
                    "cannot fit in the file's")


def test_a_bvh_with_more_motion_than_it_declares_is_refused(tmp_path):
  path = tmp_path / "extra.bvh"
  path.write_text("HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 1 Zrotation\n}\nMOTION\n"
                  "Frames: 2\nFrame Time: 0.01\n1\n2\n3\n")
  with pytest.raises(checks.BadInput, match=r"extra\.bvh: MOTION of 2 frames × 1 channels = 2 "
                                            r"values expected, found 3 values"):
    bvh.read(path)
