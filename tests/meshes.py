"""Closed meshes built from scratch (no body model files) for the renderer's tests and benchmark."""

import numpy as np


def uv_sphere(num_segments, num_rings):
  """A closed unit sphere with outward winding: (b - a) × (c - a) points out of every face.

  Args:
    num_segments: vertices around each ring of latitude.
    num_rings: bands from pole to pole (rings of vertices + 1).

  Returns:
    vertices [2 + num_segments · (num_rings - 1), 3] float64,
    faces [2 · num_segments · (num_rings - 1), 3] int32.
  """
  polar = np.linspace(0.0, np.pi, num_rings + 1)[1:-1]  # the rings, without the poles
  azimuth = np.linspace(0.0, 2 * np.pi, num_segments, endpoint=False)
  polar, azimuth = np.meshgrid(polar, azimuth, indexing="ij")  # [rings - 1, segments]
  ring_vertices = np.stack([np.sin(polar) * np.cos(azimuth), np.cos(polar),
                            np.sin(polar) * np.sin(azimuth)], axis=-1).reshape(-1, 3)
  vertices = np.concatenate([[[0.0, 1.0, 0.0]], ring_vertices, [[0.0, -1.0, 0.0]]])
  top, bottom = 0, len(vertices) - 1

  def ring(r, s):  # vertex s of ring r, wrapping around
    return 1 + r * num_segments + s % num_segments

  faces = []
  for s in range(num_segments):
    faces.append((top, ring(0, s + 1), ring(0, s)))
    for r in range(num_rings - 2):
      faces.append((ring(r, s), ring(r, s + 1), ring(r + 1, s)))
      faces.append((ring(r, s + 1), ring(r + 1, s + 1), ring(r + 1, s)))
    faces.append((bottom, ring(num_rings - 2, s), ring(num_rings - 2, s + 1)))
  return vertices, np.array(faces, np.int32)


def box(half_extents):
  """A closed axis-aligned box centred at the origin, outward winding: 8 vertices, 12 faces."""
  corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], np.float64)
  quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
  faces = [tri for a, b, c, d in quads for tri in ((a, b, c), (a, c, d))]
  return corners * np.asarray(half_extents, np.float64), np.array(faces, np.int32)
