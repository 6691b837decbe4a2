"""The lite free body: a fixed 1,500-vertex mesh whose vertices lie on the full body's surface.

The lite topology is data shipped with the package (assets/free_body_lite_topology.npz): the
lite triangles, and for each lite vertex a triangle of the full body mesh
(makehuman.body_triangles) with barycentric weights. Every per-vertex array of a lite model
(template, shape blend shapes, skinning weights, the bodies its regressors are fitted on) is
the full model's array at those points, so all genders share the lite triangles, as SMPL's
genders share theirs.

The data was made once, by quadric edge collapse of MakeHuman's base mesh and the closest point
of each kept vertex on the full surface. Builds never decimate again: a decimation's choices
hinge on floating-point ties that fall differently on different CPUs and BLAS kernels, so it
named a different mesh on different machines.

Symbols: V full vertices, M lite vertices, F lite triangles.
"""

import dataclasses
import os

import numpy as np

from hmr_tf.body.free import ASSETS

TOPOLOGY = os.path.join(ASSETS, "free_body_lite_topology.npz")


@dataclasses.dataclass(frozen=True)
class Topology:
  """The lite mesh on the full body's surface.

  Attributes:
    faces: [F, 3] int lite triangles, counter-clockwise seen from outside.
    full_face: [M] int, the full body triangle each lite vertex lies on.
    barycentric: [M, 3] that vertex's weights on the triangle's corners (non-negative, sum 1).
  """

  faces: np.ndarray
  full_face: np.ndarray
  barycentric: np.ndarray

  @property
  def num_vertices(self) -> int:
    return len(self.full_face)


def read_topology(path=TOPOLOGY) -> Topology:
  """Reads and checks the shipped lite topology."""
  with np.load(path, allow_pickle=False) as npz:
    topology = Topology(faces=npz["faces"], full_face=npz["full_face"],
                        barycentric=npz["barycentric"])
  num_vertices = topology.num_vertices
  if (topology.faces.ndim != 2 or topology.faces.shape[1] != 3
      or topology.faces.min() < 0 or topology.faces.max() >= num_vertices
      or topology.barycentric.shape != (num_vertices, 3)):
    raise ValueError(f"{path}: expected faces [F, 3] indexing {num_vertices} vertices and "
                     f"barycentric [{num_vertices}, 3], found faces "
                     f"{list(topology.faces.shape)}, barycentric "
                     f"{list(topology.barycentric.shape)}")
  return topology


def on_surface(topology, full_faces, per_vertex):
  """Values of a full per-vertex array at the lite vertices.

  Written as three products and two sums (not a matrix product) so that the result is the
  same to the last bit on every CPU and BLAS.

  Args:
    topology: Topology.
    full_faces: [F_full, 3] the full body's triangles (makehuman.body_triangles).
    per_vertex: [V, ...] any array over the full body's vertices.

  Returns:
    [M, ...].
  """
  if topology.full_face.max() >= len(full_faces):
    raise ValueError(f"the lite topology refers to full triangle {topology.full_face.max()}, "
                     f"but the full body has {len(full_faces)}: another base mesh?")
  corners = full_faces[topology.full_face]  # [M, 3]
  weights = topology.barycentric.reshape(topology.barycentric.shape + (1,) * (per_vertex.ndim - 1))
  return (weights[:, 0] * per_vertex[corners[:, 0]] + weights[:, 1] * per_vertex[corners[:, 1]]
          + weights[:, 2] * per_vertex[corners[:, 2]])
