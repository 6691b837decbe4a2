"""Our own decimation of the CC0 body, and the map of the result onto the full surface.

Quadric-error edge collapse (Garland & Heckbert 1997): repeatedly merge the two ends of the
edge whose merge moves the surface least (in summed squared distance to the planes of the
original faces around them), skipping merges that would make the mesh non-manifold (the link
condition) or flip a face. A closed, consistently oriented mesh stays so.

The decimated vertices are then mapped onto the full surface (closest point, barycentric), so
that everything per vertex (template, shape blend shapes, skinning weights) comes from the
full model.

Symbols: V full vertices, F full faces, M kept vertices, E edges.
"""

import heapq

import numpy as np
import scipy.sparse
import scipy.spatial

_MIN_NORMAL_COS = 0.2  # a merge may turn a face's normal by at most ~78°


def decimate(vertices, faces, num_vertices):
  """Decimates a closed triangle mesh to `num_vertices` vertices.

  Args:
    vertices: [V, 3].
    faces: [F, 3] int, closed and consistently oriented.
    num_vertices: how many vertices to keep.

  Returns:
    (vertices [M, 3], faces [F', 3]) of the decimated mesh, in a deterministic order.
  """
  mesh = _Mesh(vertices, faces)
  edges = np.unique(np.sort(faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1), axis=0)
  mesh.push(edges)
  count = len(vertices)
  while count > num_vertices and mesh.heap:
    _, a, b, version_a, version_b = heapq.heappop(mesh.heap)
    if mesh.version[a] == version_a and mesh.version[b] == version_b and mesh.try_collapse(a, b):
      count -= 1
  return mesh.compact()


class _Mesh:
  """A triangle mesh under edge collapse: faces per vertex, quadrics, and a heap of edges."""

  def __init__(self, vertices, faces):
    self.positions = np.array(vertices, np.float64)
    self.faces = np.array(faces, np.int64)
    self.face_alive = np.ones(len(faces), bool)
    self.vertex_faces = [set() for _ in range(len(vertices))]
    for f, face in enumerate(self.faces):
      for v in face:
        self.vertex_faces[v].add(f)
    self.quadrics = np.zeros((len(vertices), 4, 4))
    plane_quadrics = _plane_quadrics(self.positions[self.faces])
    for corner in range(3):
      np.add.at(self.quadrics, self.faces[:, corner], plane_quadrics)
    self.version = np.zeros(len(vertices), np.int64)  # +1 when a vertex moves, -1 once merged
    self.heap = []

  def neighbours(self, v):
    return {w for f in self.vertex_faces[v] for w in self.faces[f]} - {v}

  def push(self, edges):
    """Queues edges [E, 2] (smaller index first) with their current merge cost."""
    costs, _ = _merge(self.quadrics[edges[:, 0]] + self.quadrics[edges[:, 1]],
                      self.positions[edges[:, 0]], self.positions[edges[:, 1]])
    # Costs rounded to float32: mirrored edges tie exactly and are taken in index order, so
    # that last-bit differences between machines do not reorder the merges.
    for cost, (a, b) in zip(costs.astype(np.float32).tolist(), edges.tolist()):
      heapq.heappush(self.heap, (cost, a, b, int(self.version[a]), int(self.version[b])))

  def try_collapse(self, a, b):
    """Merges b into a unless that breaks the mesh; returns whether it did."""
    shared = self.vertex_faces[a] & self.vertex_faces[b]
    opposite = {w for f in shared for w in self.faces[f]} - {a, b}
    if len(shared) != 2 or self.neighbours(a) & self.neighbours(b) != opposite:
      return False  # the link condition: merging would pinch the surface
    _, target = _merge(self.quadrics[a] + self.quadrics[b], self.positions[a][None],
                       self.positions[b][None])
    moved = np.array(sorted((self.vertex_faces[a] | self.vertex_faces[b]) - shared))
    corners = self.positions[self.faces[moved]]
    new_corners = np.where(np.isin(self.faces[moved], (a, b))[..., None], target, corners)
    before, after = _normals(corners), _normals(new_corners)
    if np.any(np.sum(before * after, axis=1) <= _MIN_NORMAL_COS):
      return False  # a face would flip, fold over or vanish
    self.positions[a] = target[0]
    self.quadrics[a] += self.quadrics[b]
    for f in shared:
      self.face_alive[f] = False
      for v in self.faces[f]:
        self.vertex_faces[v].discard(f)
    for f in self.vertex_faces[b]:
      self.faces[f][self.faces[f] == b] = a
      self.vertex_faces[a].add(f)
    self.vertex_faces[b] = set()
    self.version[a] += 1
    self.version[b] = -1
    others = np.array(sorted(self.neighbours(a)))
    self.push(np.stack([np.minimum(others, a), np.maximum(others, a)], axis=1))
    return True

  def compact(self):
    kept = np.flatnonzero(self.version >= 0)
    index = np.full(len(self.positions), -1)
    index[kept] = np.arange(len(kept))
    return self.positions[kept], index[self.faces[self.face_alive]]


def _normals(triangles):
  """[..., 3 corners, 3] -> [..., 3] unit normals."""
  normal = np.cross(triangles[..., 1, :] - triangles[..., 0, :],
                    triangles[..., 2, :] - triangles[..., 0, :])
  return normal / np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-30)


def _plane_quadrics(triangles):
  """[F, 3, 3] -> [F, 4, 4] area-weighted quadrics p pᵀ of the faces' planes p = (n, -n·x)."""
  normal = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
  area = 0.5 * np.linalg.norm(normal, axis=1)
  unit = normal / np.maximum(2 * area, 1e-30)[:, None]
  plane = np.concatenate([unit, -np.sum(unit * triangles[:, 0], axis=1, keepdims=True)], axis=1)
  return area[:, None, None] * plane[:, :, None] * plane[:, None, :]


def _merge(quadrics, start, end):
  """Cost and position of merging edges [E] with summed quadrics [E, 4, 4].

  The position minimises the quadric where that is well posed and near the edge; elsewhere
  (flat or straight surroundings) the best of the two ends and the midpoint is taken.

  Returns:
    (cost [E], position [E, 3]).
  """
  quadrics = np.asarray(quadrics).reshape(-1, 4, 4)
  matrix, vector = quadrics[:, :3, :3], quadrics[:, :3, 3]
  scale = np.trace(matrix, axis1=1, axis2=2) / 3
  solvable = np.abs(np.linalg.det(matrix)) > 1e-6 * scale ** 3
  optimum = np.linalg.solve(np.where(solvable[:, None, None], matrix, np.eye(3)),
                            -vector[..., None])[..., 0]
  middle = 0.5 * (start + end)
  near = np.linalg.norm(optimum - middle, axis=1) <= np.linalg.norm(end - start, axis=1)
  options = np.stack([np.where((solvable & near)[:, None], optimum, middle), start, end], axis=1)
  homogeneous = np.concatenate([options, np.ones(options.shape[:2] + (1,))], axis=2)
  costs = np.einsum("eoi,eij,eoj->eo", homogeneous, quadrics, homogeneous)
  best = np.argmin(costs, axis=1)
  picked = np.arange(len(best))
  return costs[picked, best], options[picked, best]


def surface_map(points, vertices, faces, num_candidates=16):
  """Closest points on a triangle mesh, as barycentric weights of its vertices.

  Args:
    points: [M, 3].
    vertices: [V, 3].
    faces: [F, 3].
    num_candidates: faces (nearest by centroid) searched per point.

  Returns:
    (weights: sparse [M, V], three non-zeros per row summing to 1; distance [M]).
  """
  triangles = vertices[faces]  # [F, 3, 3]
  _, nearby = scipy.spatial.cKDTree(triangles.mean(axis=1)).query(points, k=num_candidates)
  bary, closest = _closest_on_triangles(points[:, None], triangles[nearby])  # [M, k, ...]
  distance = np.linalg.norm(closest - points[:, None], axis=2)
  best = np.argmin(distance, axis=1)
  rows = np.arange(len(points))
  columns = faces[nearby[rows, best]]  # [M, 3]
  weights = scipy.sparse.csr_matrix(
      (bary[rows, best].ravel(), (np.repeat(rows, 3), columns.ravel())),
      shape=(len(points), len(vertices)))
  return weights, distance[rows, best]


def _closest_on_triangles(points, triangles):
  """Closest points on triangles.

  Args:
    points: [..., 3].
    triangles: [..., 3 corners, 3].

  Returns:
    (barycentric weights [..., 3], closest points [..., 3]).
  """
  a, b, c = triangles[..., 0, :], triangles[..., 1, :], triangles[..., 2, :]
  # Inside the triangle: the projection onto its plane, by barycentric coordinates.
  ab, ac, ap = b - a, c - a, points - a
  d00, d01, d11 = (ab * ab).sum(-1), (ab * ac).sum(-1), (ac * ac).sum(-1)
  d20, d21 = (ap * ab).sum(-1), (ap * ac).sum(-1)
  denominator = np.maximum(d00 * d11 - d01 * d01, 1e-30)
  v = (d11 * d20 - d01 * d21) / denominator
  w = (d00 * d21 - d01 * d20) / denominator
  best_bary = np.stack([1 - v - w, v, w], axis=-1)
  inside = (v >= 0) & (w >= 0) & (v + w <= 1)
  best_distance = np.where(inside, 0.0, np.inf)  # in-plane offset counts the same for all
  # Outside: the nearest point of the three edges.
  plane_point = np.einsum("...k,...kc->...c", best_bary, triangles)
  for i, j in ((0, 1), (1, 2), (2, 0)):
    start, edge = triangles[..., i, :], triangles[..., j, :] - triangles[..., i, :]
    length_sq = np.maximum((edge * edge).sum(-1), 1e-30)
    t = np.clip(((points - start) * edge).sum(-1) / length_sq, 0, 1)
    distance = np.linalg.norm(start + t[..., None] * edge - plane_point, axis=-1)
    bary = np.zeros_like(best_bary)
    bary[..., i], bary[..., j] = 1 - t, t
    better = ~inside & (distance < best_distance)
    best_distance = np.where(better, distance, best_distance)
    best_bary = np.where(better[..., None], bary, best_bary)
  return best_bary, np.einsum("...k,...kc->...c", best_bary, triangles)
