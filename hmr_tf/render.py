"""Headless mesh rendering: a z-buffered triangle rasterizer in numba, shading, keypoint overlays.

No OpenGL, EGL or OSMesa: the original HMR's renderer needed them and they were its users' most
common install problem. Everything here runs on numpy, numba and cv2.

Conventions. Points are in camera coordinates, OpenCV style: x right, y down, z forward. Pixel
(row i, column j) has its centre at (u, v) = (j, i), as in cv2. Images are [H, W, 3] uint8 in the
caller's channel order (colours are given in that same order). Symbols: V vertices, F faces,
N points, K keypoints.

How a triangle is rasterized. Each vertex goes to homogeneous pixel coordinates
(fx·x + cx·z, fy·y + cy·z, z) for a pinhole camera, (fx·x + cx, fy·y + cy, 1) for an orthographic
one. With M the 3x3 matrix of a triangle's three vertices as columns, λ = M⁻¹ (u, v, 1) is linear
in the pixel (u, v), and the pixel's ray meets the triangle exactly where all λ_i >= 0 and
Σλ > 0; the barycentrics are λ / Σλ (perspective-correct for pinhole, where Σλ = 1 / z). This is
2D homogeneous rasterization (Olano and Greer 1997): a triangle that crosses z = 0 needs no
clipping, because the rays that would meet it behind the camera fail the test.
"""

import dataclasses

import cv2
import numpy as np

from hmr_tf import checks

# A joint lies inside the body, about a limb's radius behind the surface in front of it (roughly
# 10 cm for the hips seen from the front, an estimate), while a limb that hides it adds its own
# thickness on top. 15 cm keeps frontal hips visible; a joint behind the torso stays hidden.
JOINT_TOLERANCE = 0.15
# A keypoint on the surface differs from the depth at its pixel's centre only by the surface's
# slope across half a pixel and by tessellation: 2 cm is ample for a body at a few metres.
SURFACE_TOLERANCE = 0.02

_DEFAULT_COLOR = (0.65, 0.74, 0.86)
_DEFAULT_LIGHT = (0.3, -0.6, -1.0)  # towards the light: above (y is down), right, in front

_compiled_kernels = {}  # built on first use, so that importing this module stays fast


@dataclasses.dataclass(frozen=True)
class Camera:
  """Pinhole intrinsics, or an orthographic camera (scale fx, fy and offset cx, cy).

  Pinhole:      u = fx · x / z + cx,  v = fy · y / z + cy; only z > near is drawn or visible.
  Orthographic: u = fx · x + cx,      v = fy · y + cy; any z is drawn, smaller z is nearer.
  """

  fx: float
  fy: float
  cx: float
  cy: float
  orthographic: bool = False
  near: float = 1e-3  # the pinhole's near clipping plane, in the units of the points

  def __post_init__(self):
    values = np.array([self.fx, self.fy, self.cx, self.cy, self.near], np.float64)
    if not np.all(np.isfinite(values)) or self.fx == 0 or self.fy == 0:
      raise ValueError(f"Camera needs finite fx, fy, cx, cy, near and nonzero fx, fy. "
                       f"Received: fx={self.fx}, fy={self.fy}, cx={self.cx}, cy={self.cy}, "
                       f"near={self.near}")
    if not self.orthographic and self.near <= 0:
      raise ValueError(f"A pinhole Camera needs near > 0. Received: near={self.near}")

  @classmethod
  def weak_perspective(cls, scale, translation, image_size):
    """The orthographic camera of HMR's prediction [s, tx, ty] on an image of (height, width).

    HMR projects to x̂ = s · (X[:2] + t) in [-1, 1] crop coordinates and maps those to pixels as
    u = (x̂ + 1) · width / 2 (the original's convention), so fx = s · width / 2 and
    cx = (s · tx + 1) · width / 2, and the same along y with the height.
    """
    height, width = _check_image_size(image_size)
    tx, ty = (float(t) for t in translation)
    scale = float(scale)
    return cls(fx=scale * width / 2, fy=scale * height / 2, cx=(scale * tx + 1) * width / 2,
               cy=(scale * ty + 1) * height / 2, orthographic=True)

  def homogeneous(self, points):
    """[N, 3] camera-frame points -> [N, 3] homogeneous pixel coordinates (u·w, v·w, w)."""
    points = _check_points(points, "points")
    w = np.ones(len(points)) if self.orthographic else points[:, 2]
    return np.stack([self.fx * points[:, 0] + self.cx * w,
                     self.fy * points[:, 1] + self.cy * w, w], axis=1)

  def project(self, points):
    """[N, 3] camera-frame points -> [N, 2] pixel coordinates (u, v); for a pinhole camera only
    meaningful where z > 0."""
    hom = self.homogeneous(points)
    with np.errstate(divide="ignore", invalid="ignore"):
      return hom[:, :2] / hom[:, 2:]


@dataclasses.dataclass(frozen=True)
class Fragments:
  """What the z-buffer holds for each pixel of an [H, W] image."""

  depth: np.ndarray  # [H, W] float32 camera-frame z of the nearest surface, +inf where empty
  face_index: np.ndarray  # [H, W] int32 index into faces, -1 where empty
  barycentrics: np.ndarray  # [H, W, 3] float32 weights of the face's vertices, 0 where empty

  @property
  def mask(self):
    """[H, W] bool, True where a face was drawn."""
    return self.face_index >= 0


def rasterize(vertices, faces, camera, image_size):
  """Z-buffers a triangle mesh: the nearest face, its depth and barycentrics at each pixel centre.

  Either winding is drawn (no back-face culling), degenerate and edge-on triangles are skipped,
  and parts behind a pinhole's near plane or outside the image are left out.

  Args:
    vertices: [V, 3] camera-frame points, finite.
    faces: [F, 3] integer vertex indices in [0, V).
    camera: a Camera.
    image_size: (height, width).

  Returns:
    Fragments.
  """
  vertices = _check_points(vertices, "vertices")
  faces = _check_faces(faces, len(vertices))
  height, width = _check_image_size(image_size)
  if not isinstance(camera, Camera):
    raise ValueError(f"Expected camera to be a Camera. Received: camera={camera!r}")
  depth = np.full((height, width), np.inf, np.float32)
  face_index = np.full((height, width), -1, np.int32)
  barycentrics = np.zeros((height, width, 3), np.float32)
  near = -np.inf if camera.orthographic else float(camera.near)
  _compiled(_rasterize_faces)(camera.homogeneous(vertices), vertices[:, 2].copy(), faces, near,
                              depth, face_index, barycentrics)
  return Fragments(depth, face_index, barycentrics)


def render(vertices, faces, camera, image_size=None, *, background=None, color=_DEFAULT_COLOR,
           vertex_colors=None, light_dir=_DEFAULT_LIGHT, ambient=0.35, smooth=True):
  """Draws a shaded mesh over a background.

  Shading is Lambertian plus ambient under one directional light. Normals are turned to face the
  camera per face, so both windings, inside-out meshes and open meshes seen from behind are lit
  alike. Smooth shading interpolates area-weighted vertex normals, which assumes the mesh's
  winding is consistent; flat shading (smooth=False) does not.

  Args:
    vertices: [V, 3] camera-frame points.
    faces: [F, 3] vertex indices.
    camera: a Camera.
    image_size: (height, width); may be left out when background is given.
    background: [H, W, 3] uint8 image to draw over; black when None.
    color: [3] base colour in [0, 1], used when vertex_colors is None.
    vertex_colors: [V, 3] colours in [0, 1], interpolated across faces.
    light_dir: [3] direction from the surface towards the light, camera frame (any length).
    ambient: share of the light that reaches every surface, in [0, 1].
    smooth: interpolate vertex normals (True) or use each face's normal (False).

  Returns:
    (image [H, W, 3] uint8, Fragments).
  """
  image_size = _image_size_of(image_size, background)
  vertices = _check_points(vertices, "vertices")
  faces = _check_faces(faces, len(vertices))
  albedo = _check_colors(color, vertex_colors, len(vertices))
  light = checks.array(light_dir, (3,), "light_dir", finite=True)
  if not np.any(light):
    raise checks.BadInput(f"expected light_dir to be nonzero, found {light_dir!r}")
  if not 0.0 <= ambient <= 1.0:
    raise ValueError(f"Expected ambient in [0, 1]. Received: ambient={ambient}")

  fragments = rasterize(vertices, faces, camera, image_size)
  image = (np.zeros(image_size + (3,), np.uint8) if background is None
           else np.array(background, copy=True))
  corners = vertices[faces]  # [F, 3 corners, 3]
  face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])  # [F, 3]
  # A face is seen from its back when its normal points along the view ray; n · (any point of
  # the plane) has one sign over the whole face, so one test per face turns its normals.
  view = np.array([0.0, 0.0, 1.0]) if camera.orthographic else corners[:, 0]
  towards_camera = np.where(np.sum(face_normals * view, axis=-1) > 0, -1.0, 1.0)  # [F]
  if smooth:  # area-weighted vertex normals: each face adds its unnormalised normal to its corners
    normals = np.stack([np.bincount(faces.ravel(), np.repeat(face_normals[:, c], 3),
                                    minlength=len(vertices)) for c in range(3)], axis=1)  # [V, 3]
  else:
    normals = face_normals
  _compiled(_shade_pixels)(fragments.face_index, fragments.barycentrics, faces, normals, smooth,
                           towards_camera, albedo.reshape(-1, 3), light / np.linalg.norm(light),
                           float(ambient), image)
  return image, fragments


def visible(points, depth, camera, tolerance):
  """Which points are seen: inside the image, in front of the camera, not hidden by the mesh.

  A point is visible when the depth map at its nearest pixel is at least its own depth minus
  `tolerance` (so empty pixels, at +inf, never hide anything). Use SURFACE_TOLERANCE for points on
  the surface and JOINT_TOLERANCE (metres) for skeleton joints, which lie inside the body: the
  margin absorbs the flesh in front of a joint but not a second body part.

  Args:
    points: [N, 3] camera-frame points, in the frame the depth map was rendered from.
    depth: [H, W] depth map, e.g. Fragments.depth.
    camera: the Camera that rendered depth.
    tolerance: depth margin, in the units of the points.

  Returns:
    [N] bool.
  """
  points = _check_points(points, "points")
  depth = checks.array(depth, ("H", "W"), "depth", dtype=None)
  uv = camera.project(points)
  in_front = np.full(len(points), True) if camera.orthographic else points[:, 2] > camera.near
  with np.errstate(invalid="ignore"):
    col, row = np.rint(uv).T
    inside = in_front & (col >= 0) & (col < depth.shape[1]) & (row >= 0) & (row < depth.shape[0])
  seen = np.zeros(len(points), bool)
  surface = depth[row[inside].astype(int), col[inside].astype(int)]
  seen[inside] = surface >= points[inside, 2] - tolerance
  return seen


def draw_keypoints(image, keypoints, edges=(), color=(255, 0, 0), radius=3, thickness=2):
  """Draws keypoints and the skeleton edges between them onto a copy of an image.

  Args:
    image: [H, W, 3] uint8.
    keypoints: [K, 2] pixel coordinates (u, v), or [K, 3] with a visibility column; points with
      visibility <= 0 or non-finite coordinates are not drawn, nor are their edges.
    edges: pairs (i, j) of keypoint indices to join with lines.
    color: colour in the image's channel order.
    radius: dot radius in pixels.
    thickness: line width in pixels.

  Returns:
    [H, W, 3] uint8.
  """
  image = _check_image(image, "image")
  keypoints = checks.array(keypoints, ("K", (2, 3)), "keypoints")
  shown = np.all(np.isfinite(keypoints[:, :2]), axis=1)
  if keypoints.shape[1] == 3:
    shown &= keypoints[:, 2] > 0
  # cv2 draws at integer positions; 4 fractional bits keep sub-pixel placement.
  fixed = np.where(shown[:, None], np.rint(keypoints[:, :2] * 16), 0).astype(np.int64)
  canvas = np.ascontiguousarray(image).copy()
  color = tuple(int(c) for c in color)
  for i, j in edges:
    if shown[i] and shown[j]:
      cv2.line(canvas, tuple(fixed[i]), tuple(fixed[j]), color, thickness, cv2.LINE_AA, shift=4)
  for k in np.flatnonzero(shown):
    cv2.circle(canvas, tuple(fixed[k]), radius * 16, color, -1, cv2.LINE_AA, shift=4)
  return canvas


def _compiled(kernel):
  """numba-compiles a kernel on first use; cache=True keeps its machine code on disk."""
  if kernel not in _compiled_kernels:
    import numba  # pylint: disable=import-outside-toplevel
    _compiled_kernels[kernel] = numba.njit(cache=True, nogil=True)(kernel)
  return _compiled_kernels[kernel]


def _rasterize_faces(points, depths, faces, near, depth, face_index, barycentrics):
  """The numba kernel behind rasterize (see the module docstring); fills the buffers in place.

  points: [V, 3] homogeneous pixel coordinates (Camera.homogeneous); depths: [V] camera z.
  """
  height, width = depth.shape
  for f in range(faces.shape[0]):
    i, j, k = faces[f, 0], faces[f, 1], faces[f, 2]
    a, b, c = points[i], points[j], points[k]
    za, zb, zc = depths[i], depths[j], depths[k]
    if za <= near and zb <= near and zc <= near:
      continue
    # Rows of M⁻¹ are the cross products b×c, c×a, a×b of M's columns a, b, c, over det M.
    r0 = (b[1] * c[2] - b[2] * c[1], b[2] * c[0] - b[0] * c[2], b[0] * c[1] - b[1] * c[0])
    r1 = (c[1] * a[2] - c[2] * a[1], c[2] * a[0] - c[0] * a[2], c[0] * a[1] - c[1] * a[0])
    r2 = (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])
    det = a[0] * r0[0] + a[1] * r0[1] + a[2] * r0[2]
    # det = a · (b - a) × (c - a): near zero against |a| |b - a| |c - a| for slivers, zero-area
    # and edge-on faces, which cover no pixel centre reliably.
    size = ((a[0] ** 2 + a[1] ** 2 + a[2] ** 2)
            * ((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2 + (b[2] - a[2]) ** 2)
            * ((c[0] - a[0]) ** 2 + (c[1] - a[1]) ** 2 + (c[2] - a[2]) ** 2))
    if det * det <= 1e-14 * size:
      continue
    # Pixel bounds: the projected corners, or the whole image when a corner is behind the near
    # plane (its projection is unbounded; the per-pixel test then does the clipping).
    x0, x1, y0, y1 = 0, width - 1, 0, height - 1
    if za > near and zb > near and zc > near:
      umin = min(a[0] / a[2], b[0] / b[2], c[0] / c[2])
      umax = max(a[0] / a[2], b[0] / b[2], c[0] / c[2])
      vmin = min(a[1] / a[2], b[1] / b[2], c[1] / c[2])
      vmax = max(a[1] / a[2], b[1] / b[2], c[1] / c[2])
      x0 = max(x0, int(np.ceil(max(umin, -1.0))))
      x1 = min(x1, int(np.floor(min(umax, width))))
      y0 = max(y0, int(np.ceil(max(vmin, -1.0))))
      y1 = min(y1, int(np.floor(min(vmax, height))))
    # λ_i = (r_i / det) · (u, v, 1).
    q0 = (r0[0] / det, r0[1] / det, r0[2] / det)
    q1 = (r1[0] / det, r1[1] / det, r1[2] / det)
    q2 = (r2[0] / det, r2[1] / det, r2[2] / det)
    for y in range(y0, y1 + 1):
      for x in range(x0, x1 + 1):
        l0 = q0[0] * x + q0[1] * y + q0[2]
        l1 = q1[0] * x + q1[1] * y + q1[2]
        l2 = q2[0] * x + q2[1] * y + q2[2]
        total = l0 + l1 + l2
        # A relative slack so that pixel centres on a shared edge are never missed by both faces.
        slack = -1e-7 * total
        if total <= 0.0 or l0 < slack or l1 < slack or l2 < slack:
          continue
        b0, b1, b2 = l0 / total, l1 / total, l2 / total
        z = b0 * za + b1 * zb + b2 * zc
        if z <= near or z >= depth[y, x]:
          continue
        depth[y, x] = z
        face_index[y, x] = f
        barycentrics[y, x, 0] = b0
        barycentrics[y, x, 1] = b1
        barycentrics[y, x, 2] = b2


def _shade_pixels(face_index, barycentrics, faces, normals, smooth, towards_camera, colors, light,
                  ambient, image):
  """The numba kernel behind render's shading; writes the drawn pixels of image in place.

  normals: [V, 3] per vertex (smooth) or [F, 3] per face, unnormalised; towards_camera: [F] ±1
  turning them to the camera; colors: [V, 3] per vertex or [1, 3] for all; light: [3] unit.
  """
  height, width = face_index.shape
  for y in range(height):
    for x in range(width):
      f = face_index[y, x]
      if f < 0:
        continue
      b0, b1, b2 = barycentrics[y, x, 0], barycentrics[y, x, 1], barycentrics[y, x, 2]
      i, j, k = faces[f, 0], faces[f, 1], faces[f, 2]
      # Scalar code throughout: small array temporaries would be allocated per pixel.
      cosine, length2 = 0.0, 0.0
      for c in range(3):
        n = (b0 * normals[i, c] + b1 * normals[j, c] + b2 * normals[k, c]) if smooth else (
            normals[f, c])
        cosine += n * light[c]
        length2 += n * n
      cosine *= towards_camera[f] / max(np.sqrt(length2), 1e-30)
      shade = ambient + (1.0 - ambient) * max(cosine, 0.0)
      for c in range(3):
        albedo = colors[0, c] if colors.shape[0] == 1 else (
            b0 * colors[i, c] + b1 * colors[j, c] + b2 * colors[k, c])
        image[y, x, c] = min(max(np.rint(255.0 * albedo * shade), 0.0), 255.0)


def _check_points(points, name):
  """[N, 3] finite float64."""
  return checks.array(points, ("N", 3), name, finite=True)


def _check_faces(faces, num_vertices):
  """[F, 3] int32 indices in [0, num_vertices)."""
  return checks.indices(faces, ("F", 3), num_vertices, "faces").astype(np.int32)


def _check_image(image, name):
  """[H, W, 3] uint8."""
  image = checks.array(image, ("H", "W", 3), name, dtype=None)
  if image.dtype != np.uint8:
    raise checks.BadInput(f"expected {name} of shape [H, W, 3] and dtype uint8, found "
                          f"{list(image.shape)} {image.dtype}")
  return image


def _check_image_size(image_size):
  size = tuple(image_size) if isinstance(image_size, (tuple, list)) else ()
  if len(size) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in size):
    raise ValueError(f"Expected image_size as (height, width), two positive ints. "
                     f"Received: image_size={image_size!r}")
  return int(size[0]), int(size[1])


def _image_size_of(image_size, background):
  """(height, width) from image_size or the background's shape, checking that they agree."""
  if background is None:
    if image_size is None:
      raise ValueError("Expected image_size or background. Received neither.")
    return _check_image_size(image_size)
  background = _check_image(background, "background")
  if image_size is not None and _check_image_size(image_size) != background.shape[:2]:
    raise ValueError(f"Expected image_size to match the background's [H, W] "
                     f"{background.shape[:2]}. Received: image_size={image_size!r}")
  return background.shape[:2]


def _check_colors(color, vertex_colors, num_vertices):
  """[3] or [V, 3] float64 albedo in [0, 1]."""
  if vertex_colors is not None:
    colors = checks.array(vertex_colors, (num_vertices, 3), "vertex_colors")
  else:
    colors = checks.array(color, (3,), "color")
  if not np.all((colors >= 0) & (colors <= 1)):
    raise checks.BadInput(f"expected {'vertex_colors' if vertex_colors is not None else 'color'}"
                          f" values in [0, 1], found [{colors.min()}, {colors.max()}]")
  return colors
