"""Mesh files for users: Wavefront .obj and binary .ply, written atomically."""

import numpy as np

from hmr_tf import atomic
from hmr_tf import checks


def write_obj(path, vertices, faces, vertex_colors=None):
  """vertices [V, 3], faces [F, 3] (0-based), optional vertex_colors [V, 3] in [0, 1]."""
  vertices, faces = _check(vertices, faces)
  if vertex_colors is not None:
    vertex_colors = np.asarray(vertex_colors, np.float64).reshape(len(vertices), 3)
    rows = np.concatenate([vertices, vertex_colors], axis=1)
    vertex_lines = "".join("v %.6f %.6f %.6f %.4f %.4f %.4f\n" % tuple(r) for r in rows)
  else:
    vertex_lines = "".join("v %.6f %.6f %.6f\n" % tuple(v) for v in vertices)
  face_lines = "".join("f %d %d %d\n" % tuple(f) for f in faces + 1)
  with atomic.atomic_write(path, "w") as f:
    f.write(vertex_lines)
    f.write(face_lines)


def write_ply(path, vertices, faces):
  """Binary little-endian .ply: vertices [V, 3] float32, faces [F, 3]."""
  vertices, faces = _check(vertices, faces)
  header = ("ply\nformat binary_little_endian 1.0\n"
            f"element vertex {len(vertices)}\nproperty float x\nproperty float y\nproperty float z\n"
            f"element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n")
  face_records = np.empty(len(faces), dtype=[("n", "u1"), ("idx", "<i4", (3,))])
  face_records["n"] = 3
  face_records["idx"] = faces
  with atomic.atomic_write(path) as f:
    f.write(header.encode("ascii"))
    f.write(vertices.astype("<f4").tobytes())
    f.write(face_records.tobytes())


def _check(vertices, faces):
  """vertices [V, 3] finite float64, faces [F, 3] int64 indices into them."""
  vertices = checks.array(vertices, ("V", 3), "vertices", finite=True)
  return vertices, checks.indices(faces, ("F", 3), len(vertices), "faces").astype(np.int64)
