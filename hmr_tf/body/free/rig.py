"""MakeHuman's CMU rig: joints from the joint cubes, skinning, and posing A-pose -> T-pose.

MakeHuman rests in an A-pose (upper arms ~47° below horizontal, elbows bent ~42°, hands
forward); SMPL rests in a T-pose. Each body is skinned with the rig's 31 CMU bones and its arms
are turned onto ±x before anything is learnt from it, joints moving the same way.

Symbols: B bodies, N mesh vertices (body, then joint cubes), V body vertices, K = 31 bones,
J = 24 SMPL joints.
"""

import dataclasses

import numpy as np
import scipy.sparse

from hmr_tf import joints

# SMPL joint -> the CMU bones whose skinning weights it takes. The first bone's head is the
# joint, except for the hands (below).
_SMPL_BONES = {
    "pelvis": ("Hips", "LHipJoint", "RHipJoint"), "spine1": ("LowerBack",),
    "spine2": ("Spine",), "spine3": ("Spine1",), "smpl_neck": ("Neck", "Neck1"),
    "head": ("Head",),
}
for _side, _cmu, _short in (("left", "Left", "L"), ("right", "Right", "R")):
  _SMPL_BONES.update({
      f"{_side}_hip": (f"{_cmu}UpLeg",), f"{_side}_knee": (f"{_cmu}Leg",),
      f"{_side}_ankle": (f"{_cmu}Foot",), f"{_side}_foot": (f"{_cmu}ToeBase",),
      f"{_side}_collar": (f"{_cmu}Shoulder",), f"{_side}_shoulder": (f"{_cmu}Arm",),
      f"{_side}_elbow": (f"{_cmu}ForeArm",),
      # FingerBase starts 3 cm past the wrist and carries the palm: palm and thumb go to the
      # wrist, and SMPL's hand joint (at the knuckles) moves the fingers only.
      f"{_side}_wrist": (f"{_cmu}Hand", f"{_cmu}FingerBase", f"{_short}Thumb"),
      f"{_side}_hand": (f"{_cmu}HandFinger1",),
  })
# The knuckles of the index to little fingers; their mean is SMPL's hand joint.
_KNUCKLES = ("finger-2-1", "finger-3-1", "finger-4-1", "finger-5-1")
# Points tracked through posing: SMPL's joints, then the eyeballs' centres (for keypoints).
POINTS = joints.SMPL_24.names + ("left_eyeball", "right_eyeball")


@dataclasses.dataclass(frozen=True)
class Rig:
  """The CMU rig on MakeHuman's base mesh, and its map onto SMPL's 24 joints.

  Attributes:
    bones: [K] bone names, parents before children.
    parents: [K] parent index per bone, -1 for the root.
    heads: [K, N] sparse rows averaging mesh vertices into each bone's head (its joint cube).
    weights: [V, K] skinning weights, rows summing to 1.
    points: [P, N] sparse rows averaging mesh vertices into the POINTS (joints, eyeballs).
    carriers: [len(POINTS)] the bone that carries each point when posing.
    smpl_merge: [K, J] 0/1, which bones' weights each SMPL joint takes.
    arms: {"left"/"right": (upper arm, forearm, hand) bone indices}.
    legs: {"left"/"right": (shin, foot) bone indices}.
    knuckles: {"left"/"right": sparse (index, little) knuckle rows [2, N]}.
  """

  bones: tuple
  parents: np.ndarray
  heads: np.ndarray
  weights: np.ndarray
  points: np.ndarray
  carriers: np.ndarray
  smpl_merge: np.ndarray
  arms: dict
  legs: dict
  knuckles: dict


def read_rig(files, mesh) -> Rig:
  """The CMU rig (rigs/standard/rig.cmu_mb.json and weights.cmu_mb.json) on `mesh`."""
  spec = files.json("rigs/standard/rig.cmu_mb.json")
  bones = _parents_first(spec)
  index = {name: i for i, name in enumerate(bones)}
  parents = np.array([index[spec[b]["parent"]] if spec[b]["parent"] else -1 for b in bones])
  num_vertices = len(mesh.vertices)

  def average(vertex_indices):
    row = np.zeros(num_vertices)
    row[vertex_indices] = 1.0 / len(vertex_indices)
    return row

  def head_indices(bone):
    head = spec[bone]["head"]
    if head["strategy"] == "CUBE":
      return mesh.groups[head["cube_name"]]
    return mesh.reindex(head["vertex_indices"])  # "MEAN" of listed vertices

  heads = np.stack([average(head_indices(b)) for b in bones])
  weights = np.zeros((mesh.num_body, len(bones)))
  for bone, pairs in files.json("rigs/standard/weights.cmu_mb.json")["weights"].items():
    vertex, weight = np.array(pairs).T
    vertex = mesh.reindex(vertex.astype(np.int64))
    body = (vertex >= 0) & (vertex < mesh.num_body)  # helper geometry is weighted too
    np.add.at(weights[:, index[bone]], vertex[body], weight[body])
  weights /= weights.sum(axis=1, keepdims=True)  # stored sums are 1 ± 1e-4

  names = joints.SMPL_24.names
  carriers = np.array([index[_SMPL_BONES[n][0]] for n in names] + [index["Head"]] * 2)
  points = np.concatenate([heads[carriers[:len(names)]],
                           [average(mesh.groups[f"joint-{s}-eye"]) for s in "lr"]])
  knuckles = {}
  for side, short in (("left", "l"), ("right", "r")):
    cubes = [mesh.groups[f"joint-{short}-{k}"] for k in _KNUCKLES]
    points[names.index(f"{side}_hand")] = average(np.concatenate(cubes))
    knuckles[side] = np.stack([average(cubes[0]), average(cubes[-1])])
  merge = np.zeros((len(bones), len(names)))
  for j, name in enumerate(names):
    merge[[index[b] for b in _SMPL_BONES[name]], j] = 1.0
  if not np.array_equal(merge.sum(axis=1), np.ones(len(bones))):
    raise ValueError(f"{files.path}: CMU bones {bones} do not map one-to-one onto SMPL joints")
  sides = (("left", "Left"), ("right", "Right"))
  arms = {side: tuple(index[f"{cmu}{b}"] for b in ("Arm", "ForeArm", "Hand"))
          for side, cmu in sides}
  legs = {side: tuple(index[f"{cmu}{b}"] for b in ("Leg", "Foot")) for side, cmu in sides}
  sparse = scipy.sparse.csr_matrix
  return Rig(bones=tuple(bones), parents=parents, heads=sparse(heads), weights=weights,
             points=sparse(points), carriers=carriers, smpl_merge=merge, arms=arms, legs=legs,
             knuckles={side: sparse(rows) for side, rows in knuckles.items()})


def apply_rows(rows, vertices):
  """Fixed combinations of vertices: rows [R, N] (sparse), vertices [B, N, 3] -> [B, R, 3]."""
  batch, num_vertices, _ = vertices.shape
  flat = vertices.transpose(1, 0, 2).reshape(num_vertices, -1)  # [N, B·3]
  return (rows @ flat).reshape(-1, batch, 3).transpose(1, 0, 2)


def _parents_first(spec):
  order = []
  while len(order) < len(spec):
    order += sorted(b for b in spec if b not in order
                    and (not spec[b]["parent"] or spec[b]["parent"] in order))
  return order


def align(a, b):
  """The smallest rotations taking directions a onto b. [..., 3], [..., 3] -> [..., 3, 3]."""
  a = a / np.linalg.norm(a, axis=-1, keepdims=True)
  b = b / np.linalg.norm(b, axis=-1, keepdims=True)
  axis = np.cross(a, b)
  cos = np.sum(a * b, axis=-1)[..., None, None]
  skew = _skew(axis)
  return np.eye(3) + skew + skew @ skew / (1 + cos)


def _skew(v):
  zero = np.zeros_like(v[..., 0])
  return np.stack([zero, -v[..., 2], v[..., 1], v[..., 2], zero, -v[..., 0],
                   -v[..., 1], v[..., 0], zero], axis=-1).reshape(v.shape[:-1] + (3, 3))


def _rotation_x(angle):
  c, s = np.cos(angle), np.sin(angle)
  one, zero = np.ones_like(angle), np.zeros_like(angle)
  return np.stack([one, zero, zero, zero, c, -s, zero, s, c], -1).reshape(angle.shape + (3, 3))


def t_pose_rotations(rig, vertices):
  """World rotations of every bone that turn each A-posed body into SMPL's T-pose.

  Upper arm, forearm and hand are turned in turn onto ±x (the body's left is +x); the hand is
  then twisted about x so that the knuckles line up along z (palm down, as SMPL rests).
  MakeHuman's shins splay ~9° outwards where SMPL's hang straight: each shin is turned upright
  in the frontal plane and its foot turned back, so that the sole stays flat. All other bones
  keep their rest orientation.

  Args:
    rig: Rig.
    vertices: [B, N, 3] A-posed bodies.

  Returns:
    [B, K, 3, 3] world rotation per bone.
  """
  heads = apply_rows(rig.heads, vertices)  # [B, K, 3]
  rotations = np.tile(np.eye(3), (len(vertices), len(rig.bones), 1, 1))
  for side, sign in (("left", 1.0), ("right", -1.0)):
    upper, fore, hand = rig.arms[side]
    knuckles = apply_rows(rig.knuckles[side], vertices)  # [B, 2, 3]
    target = np.array([sign, 0.0, 0.0])
    segments = ((upper, heads[:, fore] - heads[:, upper]),
                (fore, heads[:, hand] - heads[:, fore]),
                (hand, knuckles.mean(axis=1) - heads[:, hand]))
    world = np.tile(np.eye(3), (len(vertices), 1, 1))
    for bone, direction in segments:
      world = align(np.einsum("bij,bj->bi", world, direction), target) @ world
      rotations[:, bone] = world
    across = np.einsum("bij,bj->bi", world, knuckles[:, 0] - knuckles[:, 1])  # index - little
    twist = _rotation_x(np.arctan2(across[:, 1], across[:, 2]))
    rotations[:, hand] = twist @ world
    shin, foot = rig.legs[side]
    direction = heads[:, foot] - heads[:, shin]  # knee -> ankle
    rotations[:, shin] = align(direction, direction * [0.0, 1.0, 1.0])
  return _inherit(rig, rotations)


def _inherit(rig, rotations):
  """Bones not set explicitly follow their parent (fingers the hand, toes the foot)."""
  explicit = {b for limbs in (rig.arms, rig.legs) for side in limbs.values() for b in side}
  for bone, parent in enumerate(rig.parents):
    if parent >= 0 and bone not in explicit:
      rotations[:, bone] = rotations[:, parent]
  return rotations


def bone_transforms(rig, vertices, rotations):
  """Per-bone affine maps [R | t] taking rest points to posed points.

  Args:
    rig: Rig.
    vertices: [B, N, 3] rest-pose bodies.
    rotations: [B, K, 3, 3] world rotation per bone.

  Returns:
    [B, K, 3, 4].
  """
  heads = apply_rows(rig.heads, vertices)  # [B, K, 3]
  posed = heads.copy()
  for bone, parent in enumerate(rig.parents):
    if parent >= 0:  # a child's head rides on its parent
      offset = heads[:, bone] - heads[:, parent]
      posed[:, bone] = np.einsum("bij,bj->bi", rotations[:, parent], offset) + posed[:, parent]
  translation = posed - np.einsum("bkij,bkj->bki", rotations, heads)
  return np.concatenate([rotations, translation[..., None]], axis=-1)


def skin(weights, transforms, points):
  """Linear blend skinning.

  Args:
    weights: [V, K].
    transforms: [B, K, 3, 4] per-bone maps from bone_transforms.
    points: [B, V, 3] rest-pose points.

  Returns:
    [B, V, 3] posed points.
  """
  batch, num_bones = transforms.shape[:2]
  # One matrix product blends every body's transforms: [V, K] · [K, B·12] -> [V, B, 3, 4].
  blended = (weights @ transforms.transpose(1, 0, 2, 3).reshape(num_bones, -1)).reshape(
      -1, batch, 3, 4)
  x, y, z = points.transpose(2, 1, 0)[..., None]  # each [V, B, 1]
  posed = blended[..., 0] * x + blended[..., 1] * y + blended[..., 2] * z + blended[..., 3]
  return posed.transpose(1, 0, 2)


def t_pose(rig, vertices):
  """A-posed MakeHuman bodies -> T-posed (body vertices [B, V, 3], POINTS [B, P, 3])."""
  transforms = bone_transforms(rig, vertices, t_pose_rotations(rig, vertices))
  body = skin(rig.weights, transforms, vertices[:, :len(rig.weights)])
  points = apply_rows(rig.points, vertices)  # [B, P, 3]
  carried = transforms[:, rig.carriers]  # [B, P, 3, 4]
  return body, np.einsum("bpik,bpk->bpi", carried[..., :3], points) + carried[..., 3]
