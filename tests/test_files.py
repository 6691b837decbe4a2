"""Atomic writes and mesh files."""

import os

import numpy as np
import pytest

from hmr_tf import atomic
from hmr_tf import checks
from hmr_tf import mesh_io


def test_atomic_write_leaves_the_old_file_on_a_crash(tmp_path):
  path = tmp_path / "out.bin"
  path.write_bytes(b"old")
  with pytest.raises(RuntimeError):
    with atomic.atomic_write(path) as f:
      f.write(b"half")
      raise RuntimeError("crash")
  assert path.read_bytes() == b"old"
  assert os.listdir(tmp_path) == ["out.bin"]


def test_atomic_write_replaces_on_success_with_the_usual_mode(tmp_path):
  path = tmp_path / "sub" / "out.txt"
  with atomic.atomic_write(path, "w") as f:
    f.write("new")
  assert path.read_text() == "new"
  plain = tmp_path / "plain.txt"
  plain.write_text("x")
  assert oct(path.stat().st_mode & 0o777) == oct(plain.stat().st_mode & 0o777)


def _tetrahedron():
  vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float)
  faces = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
  return vertices, faces


def test_obj_round_trip(tmp_path):
  vertices, faces = _tetrahedron()
  mesh_io.write_obj(tmp_path / "t.obj", vertices, faces)
  lines = (tmp_path / "t.obj").read_text().splitlines()
  read_vertices = np.array([[float(x) for x in l.split()[1:]] for l in lines if l.startswith("v ")])
  read_faces = np.array([[int(x) for x in l.split()[1:]] for l in lines if l.startswith("f ")])
  np.testing.assert_allclose(read_vertices, vertices)
  np.testing.assert_array_equal(read_faces, faces + 1)  # .obj counts from 1


def test_ply_round_trip(tmp_path):
  vertices, faces = _tetrahedron()
  mesh_io.write_ply(tmp_path / "t.ply", vertices, faces)
  data = (tmp_path / "t.ply").read_bytes()
  body = data[data.index(b"end_header\n") + len(b"end_header\n"):]
  np.testing.assert_allclose(np.frombuffer(body[:48], "<f4").reshape(4, 3), vertices)
  records = np.frombuffer(body[48:], dtype=[("n", "u1"), ("idx", "<i4", (3,))])
  np.testing.assert_array_equal(records["idx"], faces)
  assert np.all(records["n"] == 3)


def test_mesh_writers_check_their_input(tmp_path):
  vertices, faces = _tetrahedron()
  with pytest.raises(checks.BadInput, match=r"expected faces to index \[0, 4\), found indices "
                                            r"from 1 to 4"):
    mesh_io.write_obj(tmp_path / "t.obj", vertices, faces + 1)
  with pytest.raises(checks.BadInput, match=r"expected vertices of shape \[V, 3\], found \[4, 2\]"):
    mesh_io.write_ply(tmp_path / "t.ply", vertices[:, :2], faces)
  assert not os.listdir(tmp_path)
