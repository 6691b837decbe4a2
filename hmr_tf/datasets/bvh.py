"""Biovision hierarchy (.bvh) files: the skeleton, the motion, and global joint rotations.

A BVH file is a HIERARCHY of joints, each with an OFFSET from its parent in the rest pose and
a list of CHANNELS, then a MOTION block: the frame count, the frame time in seconds, and one
line of channel values per frame. Rotation channels are Euler angles in degrees, applied in
the order listed ("Zrotation Yrotation Xrotation" is R = Rz · Ry · Rx). A joint's global
rotation is its parent's times its own, so every global rotation is the identity in the rest
pose that the offsets describe. End Sites become channel-less joints named "<parent>/end".
"""

import dataclasses

import numpy as np
from scipy.spatial.transform import Rotation

_POSITION_CHANNELS = ("Xposition", "Yposition", "Zposition")
_ROTATION_CHANNELS = ("Xrotation", "Yrotation", "Zrotation")


@dataclasses.dataclass(frozen=True)
class Skeleton:
  """The HIERARCHY block; joints are listed parents first, as in the file."""

  names: tuple
  parents: tuple  # index of each joint's parent, -1 for the root
  offsets: np.ndarray  # [J, 3] rest-pose offset from the parent, file units
  channels: tuple  # per joint, its channel names in file order

  def index(self, name):
    return self.names.index(name)


@dataclasses.dataclass(frozen=True)
class Motion:
  """A whole BVH file."""

  skeleton: Skeleton
  frame_time: float  # seconds
  values: np.ndarray  # [F, C] channel values, in the order the joints list their channels


class _Tokens:
  """Whitespace-separated words of a file, read in order, with errors naming the file."""

  def __init__(self, words, path):
    self.words = words
    self.position = 0
    self.path = path

  def next(self, what):
    if self.position >= len(self.words):
      raise ValueError(f"{self.path}: file ends where {what} was expected")
    self.position += 1
    return self.words[self.position - 1]

  def expect(self, word):
    found = self.next(f"'{word}'")
    if found != word:
      raise ValueError(f"{self.path}: expected '{word}', found '{found}' (word {self.position})")

  def number(self, what, kind=float):
    word = self.next(what)
    try:
      return kind(word)
    except ValueError as error:
      raise ValueError(f"{self.path}: {what} should be a number, found '{word}'") from error


def _read_joint(tokens, name, parent, joints):
  """Reads one joint's block (after its name) into `joints`, recursively."""
  index = len(joints)
  tokens.expect("{")
  tokens.expect("OFFSET")
  offset = [tokens.number(f"OFFSET of joint '{name}'") for _ in range(3)]
  channels = ()
  if not name.endswith("/end"):
    tokens.expect("CHANNELS")
    count = tokens.number(f"CHANNELS count of joint '{name}'", int)
    channels = tuple(tokens.next(f"a channel of joint '{name}'") for _ in range(count))
    unknown = set(channels) - set(_POSITION_CHANNELS + _ROTATION_CHANNELS)
    if unknown:
      raise ValueError(f"{tokens.path}: joint '{name}' has unknown CHANNELS {sorted(unknown)}")
  joints.append((name, parent, offset, channels))
  while True:
    word = tokens.next(f"the end of joint '{name}'")
    if word == "}":
      return
    if word == "JOINT":
      _read_joint(tokens, tokens.next("a joint name"), index, joints)
    elif word == "End" and not name.endswith("/end"):
      tokens.expect("Site")
      _read_joint(tokens, name + "/end", index, joints)
    else:
      raise ValueError(f"{tokens.path}: unexpected '{word}' in joint '{name}'")


def _read_header(path, with_motion):
  """(Skeleton, frame count, frame time, the motion's words, empty unless with_motion)."""
  lines = []
  with open(path, encoding="utf-8", errors="replace") as f:
    # Listing a large collection reads only the headers, not the motion that follows them.
    while not lines or lines[-1].split()[:2] != ["Frame", "Time:"]:
      line = f.readline()
      if not line:
        break
      lines.append(line)
    tokens = _Tokens("".join(lines).split(), path)
    motion = f.read().split() if with_motion else []
  tokens.expect("HIERARCHY")
  tokens.expect("ROOT")
  joints = []
  _read_joint(tokens, tokens.next("the root joint's name"), -1, joints)
  names, parents, offsets, channels = zip(*joints)
  if len(set(names)) != len(names):
    raise ValueError(f"{path}: HIERARCHY repeats a joint name")
  tokens.expect("MOTION")
  tokens.expect("Frames:")
  num_frames = tokens.number("'Frames:'", int)
  tokens.expect("Frame")
  tokens.expect("Time:")
  frame_time = tokens.number("'Frame Time:'")
  if num_frames < 0 or not frame_time > 0:
    raise ValueError(f"{path}: MOTION has {num_frames} frames of {frame_time} s")
  skeleton = Skeleton(names, parents, np.array(offsets, np.float64), channels)
  return skeleton, num_frames, frame_time, tokens.words[tokens.position:] + motion


def read_header(path):
  """(Skeleton, number of frames, frame time in seconds), without reading the motion."""
  skeleton, num_frames, frame_time, _ = _read_header(path, with_motion=False)
  return skeleton, num_frames, frame_time


def read(path) -> Motion:
  """The whole file; ValueError naming the file and the block that is malformed."""
  skeleton, num_frames, frame_time, words = _read_header(path, with_motion=True)
  num_channels = sum(len(c) for c in skeleton.channels)
  if len(words) != num_frames * num_channels:
    raise ValueError(f"{path}: MOTION should hold {num_frames} frames × {num_channels} channels "
                     f"= {num_frames * num_channels} values, found {len(words)}")
  try:
    values = np.array(words, np.float64).reshape(num_frames, num_channels)
  except ValueError as error:
    raise ValueError(f"{path}: MOTION holds a value that is not a number ({error})") from error
  return Motion(skeleton, frame_time, values)


def rest_positions(skeleton) -> np.ndarray:
  """[J, 3] joint positions in the rest pose (root at the origin), file units."""
  positions = np.zeros_like(skeleton.offsets)
  for j, parent in enumerate(skeleton.parents):
    if parent >= 0:
      positions[j] = positions[parent] + skeleton.offsets[j]
  return positions


def local_rotations(motion) -> np.ndarray:
  """[F, J, 3, 3] each joint's rotation relative to its parent (identity without channels)."""
  num_frames = len(motion.values)
  rotations = np.tile(np.eye(3), (num_frames, len(motion.skeleton.names), 1, 1))
  column = 0
  for j, channels in enumerate(motion.skeleton.channels):
    axes = [c[0] for c in channels if c in _ROTATION_CHANNELS]
    if axes:
      # Upper-case axes are intrinsic rotations: "ZYX" is Rz · Ry · Rx, the BVH convention.
      angles = motion.values[:, [column + i for i, c in enumerate(channels)
                                 if c in _ROTATION_CHANNELS]]
      rotations[:, j] = Rotation.from_euler("".join(axes), angles, degrees=True).as_matrix()
    column += len(channels)
  return rotations


def global_rotations(motion) -> np.ndarray:
  """[F, J, 3, 3] each joint's rotation in the world frame, relative to the rest pose."""
  rotations = local_rotations(motion)
  for j, parent in enumerate(motion.skeleton.parents):
    if parent >= 0:
      rotations[:, j] = rotations[:, parent] @ rotations[:, j]
  return rotations
