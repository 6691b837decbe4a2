"""Linear blend skinning as pure, batched TF functions (the SMPL forward pass, step by step).

Symbols: B batch (unknown until run time), V vertices, J joints, S shape coefficients,
P = 9·(J−1) pose-corrective features, K keypoints.

SMPL (Loper et al. 2015), in four steps:
  1. shape:  v_shaped = v_template + Σ_s β_s · shapedirs_s,  rest joints J = J_regressor · v_shaped
  2. pose correctives:  v_posed = v_shaped + Σ_p (R − I)_p · posedirs_p
  3. kinematic chain: world transforms G_j = G_parent(j) · [R_j | J_j − J_parent(j)]
  4. skinning: v = Σ_j w_vj · (G_j with its rest offset removed) · v_posed

Vertex arrays are planar inside the forward pass, [B, 3, V] (one plane per coordinate): the
per-vertex products of skinning then run over contiguous memory, about 4× faster on CPU than
[B, V, 3]. Blend-shape bases are stored to match, as [S, 3·V] matrices.
"""

import numpy as np
import tensorflow as tf


def planar_basis(blend_shapes_array):
  """[N, 3, S] blend shapes (SMPL's layout) -> the [S, 3·N] matrix `blend_shapes` takes."""
  return np.transpose(blend_shapes_array, (2, 1, 0)).reshape(blend_shapes_array.shape[2], -1)


def blend_shapes(coefficients, basis):
  """Planar offsets from blend-shape coefficients: one matrix product.

  Args:
    coefficients: [B, S].
    basis: [S, 3·N] from `planar_basis`.

  Returns:
    [B, 3, N] offsets.
  """
  offsets = tf.matmul(coefficients, basis)  # [B, 3·N]
  return tf.reshape(offsets, [tf.shape(coefficients)[0], 3, -1])


def pose_features(rotmats):
  """SMPL's pose-corrective features: (R_j − I) for every joint but the root.

  Args:
    rotmats: [B, J, 3, 3].

  Returns:
    [B, 9·(J−1)].
  """
  eye = tf.eye(3, dtype=rotmats.dtype)
  return tf.reshape(rotmats[:, 1:] - eye, [tf.shape(rotmats)[0], -1])


def kinematic_levels(parents):
  """Joints grouped by depth in the tree, so each level is one batched matmul.

  Args:
    parents: [J] parent index per joint, -1 for the root.

  Returns:
    A list of int arrays: level 0 holds the root, level d the joints at depth d.
  """
  depth = np.zeros(len(parents), np.int32)
  for joint in range(1, len(parents)):
    depth[joint] = depth[parents[joint]] + 1
  return [np.flatnonzero(depth == d) for d in range(depth.max() + 1)]


def rigid_transform(rotmats, rest_joints, parents):
  """Poses the kinematic chain.

  Args:
    rotmats: [B, J, 3, 3] local joint rotations.
    rest_joints: [B, J, 3] joint locations in the rest pose.
    parents: [J] numpy parent indices, -1 for the root (static: it shapes the graph).

  Returns:
    posed_joints: [B, J, 3] joint locations after posing.
    skinning: [B, J, 3, 4] per-joint transforms [R | t] that map rest-pose points to posed
      points (world transform with the rest joint offset removed).
  """
  parents = np.asarray(parents)
  # Local transforms: rotation about the joint, translation from the parent joint.
  offsets = rest_joints - tf.gather(rest_joints, np.maximum(parents, 0), axis=1)
  offsets = tf.concat([rest_joints[:, :1], offsets[:, 1:]], axis=1)  # the root keeps its location
  local = tf.concat([rotmats, offsets[..., None]], axis=-1)  # [B, J, 3, 4]

  # World transforms level by level: G_j = G_parent · local_j, as (R, t) pairs.
  levels = kinematic_levels(parents)
  position = np.empty(len(parents), np.int32)  # where each joint lands in the concatenation
  world_rot = [local[:, :1, :, :3]]
  world_trans = [local[:, :1, :, 3]]
  position[levels[0]] = np.arange(len(levels[0]))
  done = len(levels[0])
  for level in levels[1:]:
    rot_so_far = tf.concat(world_rot, axis=1)
    trans_so_far = tf.concat(world_trans, axis=1)
    parent_rot = tf.gather(rot_so_far, position[parents[level]], axis=1)
    parent_trans = tf.gather(trans_so_far, position[parents[level]], axis=1)
    child = tf.gather(local, level, axis=1)
    world_rot.append(tf.matmul(parent_rot, child[..., :3]))
    world_trans.append(tf.einsum("bjik,bjk->bji", parent_rot, child[..., 3]) + parent_trans)
    position[level] = done + np.arange(len(level))
    done += len(level)
  order = np.argsort(np.concatenate(levels))  # back to joint order
  rot = tf.gather(tf.concat(world_rot, axis=1), order, axis=1)  # [B, J, 3, 3]
  posed_joints = tf.gather(tf.concat(world_trans, axis=1), order, axis=1)  # [B, J, 3]

  # Remove the rest offset so that the transform applies to rest-pose vertices directly.
  trans = posed_joints - tf.einsum("bjik,bjk->bji", rot, rest_joints)
  return posed_joints, tf.concat([rot, trans[..., None]], axis=-1)


def skin(vertices, skinning, weights_t):
  """Blends the joint transforms per vertex and applies them.

  Args:
    vertices: [B, 3, V] planar rest-pose vertices (with shape and pose correctives).
    skinning: [B, J, 3, 4] per-joint transforms from `rigid_transform`.
    weights_t: [J, V] skinning weights, transposed.

  Returns:
    [B, 3, V] planar posed vertices.
  """
  batch = tf.shape(vertices)[0]
  num_joints = tf.shape(weights_t)[0]
  # Blended transform entries, one plane each: [B, 12, J] · [J, V] -> [B, 12, V].
  per_vertex = tf.matmul(tf.reshape(skinning, [batch, num_joints, 12]), weights_t,
                         transpose_a=True)
  per_vertex = tf.reshape(per_vertex, [batch, 3, 4, -1])  # [B, row, column, V]
  return (tf.reduce_sum(per_vertex[:, :, :3] * vertices[:, None], axis=2)
          + per_vertex[:, :, 3])


def regress(regressor, vertices):
  """Points regressed from planar vertices. regressor [K, V], vertices [B, 3, V] -> [B, K, 3]."""
  # A matmul, not tf.einsum("kv,bcv->bkc"): the TFLite converter lowers that einsum to a
  # RESHAPE whose static output shape holds the unknown batch as -1, which no interpreter loads
  # ("BytesRequired number of elements overflowed").
  return tf.transpose(tf.matmul(vertices, regressor, transpose_b=True), [0, 2, 1])
