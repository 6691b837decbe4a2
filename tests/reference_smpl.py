"""An independent numpy SMPL, written from the paper's equations for the tests.

It shares no code with hmr_tf: rotations come from scipy, the kinematic chain is a plain loop
over 4x4 matrices, and joints are regressed from the shaped vertices as the paper writes it.
"""

import numpy as np
from scipy.spatial.transform import Rotation


def smpl_forward(model, pose, betas):
  """pose [B, 72] axis-angle, betas [B, S] -> (vertices [B, V, 3], joints [B, J, 3])."""
  pose = np.asarray(pose, np.float64)
  vertices_out, joints_out = [], []
  for theta, beta in zip(pose, np.asarray(betas, np.float64)):
    num_joints = len(model.parents)
    rotations = Rotation.from_rotvec(theta.reshape(num_joints, 3)).as_matrix()
    v_shaped = model.v_template + np.tensordot(model.shapedirs, beta, axes=([2], [0]))
    rest_joints = model.J_regressor @ v_shaped
    features = (rotations[1:] - np.eye(3)).reshape(-1)
    v_posed = v_shaped + np.tensordot(model.posedirs, features, axes=([2], [0]))
    world = []
    for j in range(num_joints):
      local = np.eye(4)
      local[:3, :3] = rotations[j]
      parent = model.parents[j]
      local[:3, 3] = rest_joints[j] - (rest_joints[parent] if parent >= 0 else 0)
      world.append(local if parent < 0 else world[parent] @ local)
    world = np.stack(world)
    posed_joints = world[:, :3, 3]
    relative = world.copy()
    relative[:, :3, 3] -= np.einsum("jik,jk->ji", world[:, :3, :3], rest_joints)
    per_vertex = np.einsum("vj,jab->vab", model.weights, relative)
    homogeneous = np.concatenate([v_posed, np.ones((len(v_posed), 1))], axis=1)
    vertices_out.append(np.einsum("vab,vb->va", per_vertex, homogeneous)[:, :3])
    joints_out.append(posed_joints)
  return np.stack(vertices_out), np.stack(joints_out)
