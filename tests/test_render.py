"""The headless renderer against independent references: analytic ray casts, cv2.fillPoly of the
projected faces, and the weak-perspective formula."""

import cv2
import numpy as np
import pytest

from hmr_tf import render
from meshes import box, uv_sphere

HEIGHT, WIDTH = 120, 160
CAMERA = render.Camera(fx=150.0, fy=140.0, cx=70.0, cy=65.0)


def pixel_rays(camera, height, width):
  """[H, W, 3] pinhole ray directions with z = 1 through every pixel centre."""
  v, u = np.mgrid[:height, :width].astype(np.float64)
  return np.stack([(u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, np.ones_like(u)], -1)


def sphere_depth(center, radius, camera, height, width):
  """[H, W] camera z where each pixel's ray first meets the exact sphere, +inf where it misses."""
  rays = pixel_rays(camera, height, width)
  # |t·d - c|² = r² with t the ray parameter, which is also z because d_z = 1.
  dd = np.sum(rays * rays, -1)
  dc = rays @ np.asarray(center)
  disc = dc ** 2 - dd * (np.dot(center, center) - radius ** 2)
  with np.errstate(invalid="ignore"):
    return np.where(disc >= 0, (dc - np.sqrt(disc)) / dd, np.inf)


def triangle_depth(corners, camera, height, width):
  """[H, W] z where each pixel's ray meets the triangle beyond the near plane, +inf where it misses
  (Möller-Trumbore)."""
  rays = pixel_rays(camera, height, width)
  a, b, c = np.asarray(corners, np.float64)
  e1, e2 = b - a, c - a
  p = np.cross(rays, e2)
  det = p @ e1
  s = -a  # ray origin (the camera centre) minus a
  u = (p @ s) / det
  q = np.cross(s, e1)
  v = (rays @ q) / det
  t = (q @ e2) / det
  hit = (u >= 0) & (v >= 0) & (u + v <= 1) & (t > camera.near)
  return np.where(hit, t, np.inf)


def fill_projected_faces(vertices, faces, camera, height, width):
  """[H, W] bool union of the faces' projections drawn by cv2.fillPoly, sampled at pixel centres.

  fillPoly also fills every pixel its outline touches, which would grow the silhouette by about
  half a pixel, so it draws at 8x resolution and keeps the samples at the pixel centres.
  """
  up = 8
  uv = camera.project(vertices) * up
  mask = np.zeros((height * up, width * up), np.uint8)
  for corners in np.rint(uv[faces] * 16).astype(np.int32):
    cv2.fillPoly(mask, [corners], 1, shift=4)  # one call each: overlapping contours cancel out
  return mask[::up, ::up].astype(bool)


def iou(a, b):
  return np.sum(a & b) / np.sum(a | b)


def rotation(axis_angle):
  return cv2.Rodrigues(np.asarray(axis_angle, np.float64))[0]


def test_sphere_silhouette_and_depth_match_the_exact_sphere():
  unit, faces = uv_sphere(64, 32)
  center, radius = np.array([0.3, -0.2, 4.0]), 1.0
  fragments = render.rasterize(unit * radius + center, faces, CAMERA, (HEIGHT, WIDTH))
  exact = sphere_depth(center, radius, CAMERA, HEIGHT, WIDTH)
  assert iou(fragments.mask, np.isfinite(exact)) >= 0.98
  # The tessellation is inscribed in the sphere, so it lies behind it, by at most its sagitta;
  # checked away from the rim, where depth is steep across a pixel.
  core = np.isfinite(sphere_depth(center, 0.8 * radius, CAMERA, HEIGHT, WIDTH))
  error = fragments.depth[core] - exact[core]
  assert np.all(error >= -1e-5) and np.all(error <= 0.01 * radius)


@pytest.mark.parametrize("camera", [CAMERA, render.Camera(90.0, 90.0, 80.0, 60.0, True)],
                         ids=["pinhole", "orthographic"])
def test_box_silhouette_matches_fillpoly_for_both_windings(camera):
  vertices, faces = box([0.5, 0.3, 0.4])
  vertices = vertices @ rotation([0.4, 0.7, -0.2]).T + [0.0, 0.1, 3.0]
  reference = fill_projected_faces(vertices, faces, camera, HEIGHT, WIDTH)
  mask = render.rasterize(vertices, faces, camera, (HEIGHT, WIDTH)).mask
  assert iou(mask, reference) >= 0.98
  flipped = render.rasterize(vertices, faces[:, ::-1], camera, (HEIGHT, WIDTH)).mask
  np.testing.assert_array_equal(flipped, mask)


def test_tilted_plane_depth_is_perspective_correct():
  # A quad that recedes from z = 1.5 to z = 8: affine interpolation of z would be far off.
  corners = np.array([[-3.0, -2.0, 1.5], [3.0, -2.0, 1.5], [3.0, 2.0, 8.0], [-3.0, 2.0, 8.0]])
  fragments = render.rasterize(corners, [[0, 1, 2], [0, 2, 3]], CAMERA, (HEIGHT, WIDTH))
  normal = np.cross(corners[1] - corners[0], corners[2] - corners[0])
  exact = (normal @ corners[0]) / (pixel_rays(CAMERA, HEIGHT, WIDTH) @ normal)
  covered = fragments.mask
  assert covered.mean() > 0.5
  np.testing.assert_allclose(fragments.depth[covered], exact[covered], rtol=1e-6)
  assert np.all(np.isinf(fragments.depth[~covered]))


def test_triangle_crossing_the_camera_plane_is_clipped_exactly():
  corners = np.array([[-1.0, -0.5, 2.0], [1.5, -0.5, 3.0], [0.2, 1.0, -1.0]])
  fragments = render.rasterize(corners, [[0, 1, 2]], CAMERA, (HEIGHT, WIDTH))
  exact = triangle_depth(corners, CAMERA, HEIGHT, WIDTH)
  assert iou(fragments.mask, np.isfinite(exact)) >= 0.99
  both = fragments.mask & np.isfinite(exact)
  np.testing.assert_allclose(fragments.depth[both], exact[both], rtol=1e-6)
  assert np.all(fragments.depth[fragments.mask] > CAMERA.near)


def test_degenerate_and_hidden_triangles_draw_nothing():
  vertices = np.array([
      [0.0, 0.0, 3.0], [1.0, 1.0, 3.0], [2.0, 2.0, 3.0],  # collinear
      [0.0, 0.0, 3.0], [0.0, 0.0, 3.0], [1.0, 0.0, 3.0],  # two equal corners
      [0.0, 0.0, 3.0], [0.0, 1.0, 3.0], [0.0, 0.0, 5.0],  # edge-on: its plane holds the camera
      [-1.0, -1.0, -2.0], [1.0, -1.0, -2.0], [0.0, 1.0, -2.0],  # behind the camera
      [50.0, 50.0, 1.0], [60.0, 50.0, 1.0], [50.0, 60.0, 1.0]])  # outside the image
  faces = np.arange(len(vertices)).reshape(-1, 3)
  assert not render.rasterize(vertices, faces, CAMERA, (HEIGHT, WIDTH)).mask.any()


def test_near_triangle_hides_far_one_in_either_order():
  near = [[-1.0, -1.0, 2.0], [1.0, -1.0, 2.0], [0.0, 1.0, 2.0]]
  far = [[-2.0, -1.5, 4.0], [2.0, -1.5, 4.0], [0.0, 2.0, 4.0]]
  pixel = (int(CAMERA.cy), int(CAMERA.cx))  # on the optical axis, inside both
  for order in ([near, far], [far, near]):
    fragments = render.rasterize(np.concatenate(order), [[0, 1, 2], [3, 4, 5]], CAMERA,
                                 (HEIGHT, WIDTH))
    assert fragments.face_index[pixel] == order.index(near)
    assert fragments.depth[pixel] == pytest.approx(2.0)


def test_visibility_of_surface_points_and_joints():
  corners = np.array([[-1.0, -1.0, 2.0], [1.0, -1.0, 2.0], [0.0, 1.0, 2.0]])
  fragments = render.rasterize(corners, [[0, 1, 2]], CAMERA, (HEIGHT, WIDTH))
  points = np.array([
      [0.0, 0.0, 2.0],  # on the triangle
      [0.0, 0.0, 3.0],  # behind it
      [0.0, 0.0, 1.0],  # in front of it
      [1.2, 0.0, 3.0],  # beside it, on empty pixels
      [40.0, 0.0, 3.0],  # outside the image
      [0.0, 0.0, -1.0]])  # behind the camera
  seen = render.visible(points, fragments.depth, CAMERA, render.SURFACE_TOLERANCE)
  np.testing.assert_array_equal(seen, [True, False, True, True, False, False])

  # A joint amid a 10 cm limb is seen through its own flesh, not through a limb in front of it.
  unit, faces = uv_sphere(32, 16)
  joint = np.array([[0.0, 0.0, 3.0]])
  limb = unit * 0.1 + joint
  depth = render.rasterize(limb, faces, CAMERA, (HEIGHT, WIDTH)).depth
  assert render.visible(joint, depth, CAMERA, render.JOINT_TOLERANCE).all()
  both = render.rasterize(np.concatenate([limb, unit * 0.1 + [0.0, 0.0, 2.6]]),
                          np.concatenate([faces, faces + len(unit)]), CAMERA, (HEIGHT, WIDTH))
  assert not render.visible(joint, both.depth, CAMERA, render.JOINT_TOLERANCE).any()


def test_weak_perspective_camera_follows_hmr_formula():
  scale, translation, size = 0.8, np.array([0.1, -0.2]), (96, 128)
  camera = render.Camera.weak_perspective(scale, translation, size)
  points = np.random.default_rng(0).normal(size=(50, 3))
  normalised = scale * (points[:, :2] + translation)  # HMR: x̂ = s · (X[:, :2] + t)
  expected = (normalised + 1.0) * np.array([size[1], size[0]]) / 2.0
  np.testing.assert_allclose(camera.project(points), expected, atol=1e-9)

  # A triangle straddling z = 0, as HMR's meshes do, is drawn at its formula projection and depth.
  corners = np.array([[-0.9, -0.8, -0.5], [0.7, -0.6, 0.4], [0.1, 0.9, 0.2]])
  fragments = render.rasterize(corners, [[0, 1, 2]], camera, size)
  uv = (scale * (corners[:, :2] + translation) + 1.0) * np.array([size[1], size[0]]) / 2.0
  v, u = np.mgrid[:size[0], :size[1]]
  weights = np.linalg.solve(np.vstack([uv.T, np.ones(3)]),
                            np.stack([u.ravel(), v.ravel(), np.ones(u.size)]))  # [3, H·W]
  inside = np.all(weights >= 0, axis=0).reshape(size)
  assert iou(fragments.mask, inside) >= 0.99
  both = (fragments.mask & inside).ravel()
  np.testing.assert_allclose(fragments.depth.ravel()[both], (corners[:, 2] @ weights)[both],
                             atol=1e-6)


def test_shading_is_lambertian_and_ignores_winding():
  quad = np.array([[-5.0, -5.0, 3.0], [5.0, -5.0, 3.0], [5.0, 5.0, 3.0], [-5.0, 5.0, 3.0]])
  faces = np.array([[0, 1, 2], [0, 2, 3]])
  color, ambient = np.array([0.8, 0.4, 0.2]), 0.3
  for light, intensity in [((0, 0, -1), 1.0), ((0, 0, 1), ambient), ((1, 0, 0), ambient),
                           ((0, -1, -1), ambient + (1 - ambient) * np.sqrt(0.5))]:
    for winding in (faces, faces[:, ::-1]):
      image, _ = render.render(quad, winding, CAMERA, (HEIGHT, WIDTH), color=color,
                               light_dir=light, ambient=ambient, smooth=False)
      np.testing.assert_array_equal(image[0, 0], np.rint(255 * color * intensity))

  unit, faces = uv_sphere(32, 16)
  sphere = unit + [0.0, 0.0, 4.0]
  for smooth in (True, False):
    image, fragments = render.render(sphere, faces, CAMERA, (HEIGHT, WIDTH), smooth=smooth)
    flipped, _ = render.render(sphere, faces[:, ::-1], CAMERA, (HEIGHT, WIDTH), smooth=smooth)
    assert np.abs(image.astype(int) - flipped).max() <= 1
    assert len(np.unique(image[fragments.mask].reshape(-1, 3), axis=0)) > 20  # shaded, not flat


def test_vertex_colors_and_background():
  background = np.full((HEIGHT, WIDTH, 3), 17, np.uint8)
  corners = np.array([[-1.0, -1.0, 2.0], [1.0, -1.0, 2.0], [0.0, 1.0, 2.0]])
  colors = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
  image, fragments = render.render(corners, [[0, 1, 2]], CAMERA, background=background,
                                   vertex_colors=colors, light_dir=(0, 0, -1))
  np.testing.assert_array_equal(image[~fragments.mask], 17)
  # The light falls straight on the face: the full interpolated colour.
  expected = np.rint(255.0 * fragments.barycentrics[fragments.mask].astype(np.float64))
  np.testing.assert_array_equal(image[fragments.mask], expected)
  assert np.all(background == 17)  # drawn on a copy


def test_draw_keypoints():
  image = np.zeros((64, 64, 3), np.uint8)
  keypoints = np.array([[10.0, 10.0, 1.0], [50.0, 40.0, 1.0], [30.0, 55.0, 0.0]])
  drawn = render.draw_keypoints(image, keypoints, edges=[(0, 1), (1, 2)], color=(0, 255, 0))
  assert not image.any()
  assert drawn[10, 10, 1] == 255 and drawn[40, 50, 1] == 255 and drawn[25, 30, 1] == 255
  assert not drawn[55, 30].any() and not drawn[48, 40].any()  # hidden point, its edge
  assert not drawn[..., 0].any() and not drawn[..., 2].any()


TRIANGLE = np.array([[0.0, 0.0, 2.0], [1.0, 0.0, 2.0], [0.0, 1.0, 2.0]])


@pytest.mark.parametrize("call, message", [
    (lambda: render.rasterize(TRIANGLE[:, :2], [[0, 1, 2]], CAMERA, (8, 8)), "vertices of shape"),
    (lambda: render.rasterize(TRIANGLE * np.nan, [[0, 1, 2]], CAMERA, (8, 8)), "finite"),
    (lambda: render.rasterize(TRIANGLE, [[0.0, 1.0, 2.0]], CAMERA, (8, 8)), "integer dtype"),
    (lambda: render.rasterize(TRIANGLE, [0, 1, 2], CAMERA, (8, 8)), "faces of shape"),
    (lambda: render.rasterize(TRIANGLE, [[0, 1, 3]], CAMERA, (8, 8)), r"\[0, 3\)"),
    (lambda: render.rasterize(TRIANGLE, [[0, 1, 2]], CAMERA, (8, 0)), "image_size"),
    (lambda: render.rasterize(TRIANGLE, [[0, 1, 2]], CAMERA, (8, 8, 3)), "image_size"),
    (lambda: render.rasterize(TRIANGLE, [[0, 1, 2]], "camera", (8, 8)), "Camera"),
    (lambda: render.render(TRIANGLE, [[0, 1, 2]], CAMERA), "image_size or background"),
    (lambda: render.render(TRIANGLE, [[0, 1, 2]], CAMERA, background=np.zeros((8, 8, 3))),
     "dtype uint8"),
    (lambda: render.render(TRIANGLE, [[0, 1, 2]], CAMERA, (4, 8),
                           background=np.zeros((8, 8, 3), np.uint8)), "match"),
    (lambda: render.render(TRIANGLE, [[0, 1, 2]], CAMERA, (8, 8), color=(255, 0, 0)), "color"),
    (lambda: render.render(TRIANGLE, [[0, 1, 2]], CAMERA, (8, 8), vertex_colors=np.ones((2, 3))),
     r"vertex_colors of shape \[3, 3\]"),
    (lambda: render.render(TRIANGLE, [[0, 1, 2]], CAMERA, (8, 8), light_dir=(0, 0, 0)),
     "light_dir"),
    (lambda: render.render(TRIANGLE, [[0, 1, 2]], CAMERA, (8, 8), ambient=2.0), "ambient"),
    (lambda: render.visible(TRIANGLE, np.zeros((8, 8, 1)), CAMERA, 0.0), "depth of shape"),
    (lambda: render.Camera(0.0, 1.0, 0.0, 0.0), "nonzero"),
    (lambda: render.Camera(1.0, 1.0, 0.0, 0.0, near=0.0), "near > 0"),
    (lambda: render.draw_keypoints(np.zeros((8, 8)), [[1.0, 1.0]]), "image of shape"),
    (lambda: render.draw_keypoints(np.zeros((8, 8, 3), np.uint8), [1.0, 1.0]), "keypoints of"),
])
def test_bad_inputs_raise(call, message):
  with pytest.raises(ValueError, match=message):
    call()
