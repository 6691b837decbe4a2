"""Biovision hierarchy (.bvh) files: the skeleton, the motion, and global joint rotations.

A BVH file is a HIERARCHY of joints, each with an OFFSET from its parent in the rest pose and
a list of CHANNELS, then a MOTION block: the frame count, the frame time in seconds, and one
line of channel values per frame. Rotation channels are Euler angles in degrees, applied in
the order listed ("Zrotation Yrotation Xrotation" is R = Rz · Ry · Rx). A joint's global
rotation is its parent's times its own, so every global rotation is the identity in the rest
pose that the offsets describe. End Sites become channel-less joints named "<parent>/end".

What a file declares is checked before it is read: the HIERARCHY may span MAX_HEADER_BYTES and
nest MAX_DEPTH joints deep, and the frame count times the channel count must fit in the bytes
the file has (each value takes at least two characters) and in checks.MAX_ARRAY_BYTES. Errors
are hmr_tf.checks.BadInput naming the file and the block.
"""

import dataclasses
import os
import warnings

import numpy as np
from scipy.spatial.transform import Rotation

from hmr_tf import checks

MAX_HEADER_BYTES = 1 << 20  # a CMU HIERARCHY is ~10 KB
MAX_DEPTH = 256  # joints nested in joints; a CMU skeleton is 10 deep
_MAX_CHARS_PER_VALUE = 64  # motion text allowed per declared value, separators included
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
      raise checks.BadInput(f"{self.path}: file ends where {what} was expected")
    self.position += 1
    return self.words[self.position - 1]

  def expect(self, word):
    found = self.next(f"'{word}'")
    if found != word:
      raise checks.BadInput(f"{self.path}: expected '{word}', found '{found}' "
                            f"(word {self.position})")

  def number(self, what, kind=float):
    word = self.next(what)
    try:
      return kind(word)
    except ValueError:
      raise checks.BadInput(f"{self.path}: {what} should be a number, found '{word}'") from None


def _read_joint(tokens, name, parent, joints, depth=0):
  """Reads one joint's block (after its name) into `joints`, recursively."""
  if depth > MAX_DEPTH:
    raise checks.BadInput(f"{tokens.path}: HIERARCHY nests joints more than {MAX_DEPTH} deep")
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
      raise checks.BadInput(f"{tokens.path}: joint '{name}' has unknown CHANNELS "
                            f"{sorted(unknown)}")
  joints.append((name, parent, offset, channels))
  while True:
    word = tokens.next(f"the end of joint '{name}'")
    if word == "}":
      return
    if word == "JOINT":
      _read_joint(tokens, tokens.next("a joint name"), index, joints, depth + 1)
    elif word == "End" and not name.endswith("/end"):
      tokens.expect("Site")
      _read_joint(tokens, name + "/end", index, joints, depth + 1)
    else:
      raise checks.BadInput(f"{tokens.path}: unexpected '{word}' in joint '{name}'")


def _read_header(path, with_motion):
  """(Skeleton, frame count, frame time, the motion's values [F, C] or None)."""
  lines, size = [], 0
  with open(path, encoding="utf-8", errors="replace") as f:
    # Listing a large collection reads only the headers, not the motion that follows them.
    while not lines or lines[-1].split()[:2] != ["Frame", "Time:"]:
      line = f.readline(MAX_HEADER_BYTES + 1 - size)
      if not line:
        break
      lines.append(line)
      size += len(line)
      if size > MAX_HEADER_BYTES:
        raise checks.BadInput(f"{path}: no 'Frame Time:' line in the first "
                              f"{MAX_HEADER_BYTES} bytes: not a BVH header")
    tokens = _Tokens("".join(lines).split(), path)
    skeleton, num_frames, frame_time = _parse_header(tokens, path)
    num_channels = sum(len(c) for c in skeleton.channels)
    num_values = num_frames * num_channels
    motion = f"MOTION of {num_frames} frames × {num_channels} channels = {num_values} values"
    # Declared sizes are checked before the motion is read, let alone allocated.
    if num_values > os.path.getsize(path) // 2 + 1:
      raise checks.BadInput(f"{path}: {motion} cannot fit in the file's "
                            f"{os.path.getsize(path)} bytes")
    checks.declared_size(num_values * 8, motion, path)
    values = None
    if with_motion:
      text = " ".join(tokens.words[tokens.position:]) + " " + f.read(
          _MAX_CHARS_PER_VALUE * num_values + 1)
      values = _numbers(text)
      more = f.read(1)
      if more or values is None or values.size != num_values:
        found = ("more text" if more else "a word that is not a number" if values is None
                 else f"{values.size} values")
        raise checks.BadInput(f"{path}: {motion} expected, found {found}")
  return skeleton, num_frames, frame_time, values


def _parse_header(tokens, path):
  """(Skeleton, frame count, frame time) from the words of a header."""
  tokens.expect("HIERARCHY")
  tokens.expect("ROOT")
  joints = []
  _read_joint(tokens, tokens.next("the root joint's name"), -1, joints)
  names, parents, offsets, channels = zip(*joints)
  if len(set(names)) != len(names):
    raise checks.BadInput(f"{path}: HIERARCHY repeats a joint name")
  tokens.expect("MOTION")
  tokens.expect("Frames:")
  num_frames = tokens.number("'Frames:'", int)
  tokens.expect("Frame")
  tokens.expect("Time:")
  frame_time = tokens.number("'Frame Time:'")
  if num_frames < 0 or not 0 < frame_time < np.inf:
    raise checks.BadInput(f"{path}: MOTION has {num_frames} frames of {frame_time} s")
  return Skeleton(names, parents, np.array(offsets, np.float64), channels), num_frames, frame_time


def _numbers(text):
  """float64 values of whitespace-separated text, or None if a word is not a number."""
  if not text.strip():  # np.fromstring reads blank text as [-1]
    return np.zeros(0)
  with warnings.catch_warnings():  # numpy < 2.3 warns, and stops, at a word that is no number
    warnings.simplefilter("error", DeprecationWarning)
    try:
      return np.fromstring(text, np.float64, sep=" ")
    except (ValueError, DeprecationWarning):
      return None


def read_header(path):
  """(Skeleton, number of frames, frame time in seconds), without reading the motion."""
  skeleton, num_frames, frame_time, _ = _read_header(path, with_motion=False)
  return skeleton, num_frames, frame_time


def read(path) -> Motion:
  """The whole file; BadInput naming the file and the block that is malformed."""
  skeleton, num_frames, frame_time, values = _read_header(path, with_motion=True)
  num_channels = sum(len(c) for c in skeleton.channels)
  return Motion(skeleton, frame_time, values.reshape(num_frames, num_channels))


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
