"""What training shows in TensorBoard: scalars averaged over each interval, and image panels of
the inputs with their keypoints and the predicted mesh (hmr_tf.render)."""

import collections
import math

import cv2
import numpy as np

from hmr_tf import render

PANEL_SIZE = 128  # px: small inputs are enlarged to at least this, so the panels can be read
_TRUE_COLOR = (60, 220, 60)
_PREDICTED_COLOR = (255, 60, 60)


class Averages:
  """Running means of scalar metrics over the steps since the last `pop`."""

  def __init__(self):
    self._sums = collections.defaultdict(float)
    self._count = 0

  def add(self, metrics):
    for name, value in metrics.items():
      self._sums[name] += value
    self._count += 1

  def pop(self):
    """{name: mean} since the last pop, then starts over."""
    means = {name: total / self._count for name, total in self._sums.items()}
    self._sums.clear()
    self._count = 0
    return means


def panels(images, keypoints2d, outputs, faces):
  """One row per example: the input with the true (green) and predicted (red) keypoints, and the
  predicted mesh drawn over the input.

  Args:
    images: [N, S, S, 3] float in [-1, 1].
    keypoints2d: [N, K, 3] true (x, y, visibility) in [-1, 1] crop coordinates.
    outputs: the model's outputs for these images, as numpy ("keypoints2d", "camera",
      "vertices").
    faces: [F, 3] mesh faces.

  Returns:
    [N, P, 2P, 3] uint8, P = S enlarged to at least PANEL_SIZE.
  """
  size = images.shape[1] * math.ceil(PANEL_SIZE / images.shape[1])
  rows = []
  for i, image in enumerate(images):
    picture = cv2.resize(((image + 1.0) * 127.5).clip(0, 255).astype(np.uint8), (size, size),
                         interpolation=cv2.INTER_NEAREST)
    keypoints = picture
    for points, color in ((keypoints2d[i], _TRUE_COLOR),
                          (outputs["keypoints2d"][i], _PREDICTED_COLOR)):
      pixels = (points[:, :2] + 1.0) * size / 2 - 0.5
      if points.shape[1] == 3:  # hidden ground-truth keypoints are not drawn
        pixels = np.concatenate([pixels, points[:, 2:]], axis=1)
      keypoints = render.draw_keypoints(keypoints, pixels, color=color, radius=2)
    rows.append(np.concatenate([keypoints, _mesh(picture, outputs, i, faces)], axis=1))
  return np.stack(rows)


def _mesh(picture, outputs, i, faces):
  """The predicted mesh over the picture, or the picture alone where the camera is unusable."""
  scale, tx, ty = (float(v) for v in outputs["camera"][i])
  vertices = outputs["vertices"][i]
  if not (math.isfinite(scale) and abs(scale) > 1e-6 and np.all(np.isfinite(vertices))):
    return picture
  camera = render.Camera.weak_perspective(scale, (tx, ty), picture.shape[:2])
  overlay, fragments = render.render(vertices, faces, camera, background=picture)
  mixed = 0.7 * overlay + 0.3 * picture
  return np.where(fragments.mask[..., None], mixed, picture).astype(np.uint8)
