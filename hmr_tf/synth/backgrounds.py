"""Backgrounds: procedural textures, and crops of real photos when a folder of them is given.

A network trained on one kind of background learns to find the person by the background, so
the kinds vary in colour, frequency and structure: smooth gradients, low-frequency noise,
stripes and checkers at any angle, blobs, and a wall-and-floor split with a horizon.
"""

import colorsys
import functools
import os

import cv2
import numpy as np

PHOTO_PROBABILITY = 0.7  # share of photo backgrounds when photos are given
_PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
_MIN_CROP = 0.3  # smallest crop side, as a share of the photo's shorter side
_CACHED_PHOTOS = 256  # decoded photos kept per process


def procedural(rng, size):
  """[size, size, 3] uint8 RGB texture of a random kind."""
  kind = _TEXTURES[rng.integers(len(_TEXTURES))]
  return np.clip(np.rint(kind(rng, size) * 255), 0, 255).astype(np.uint8)


def draw(rng, size, photos=None):
  """[size, size, 3] uint8 RGB background: a photo crop (PHOTO_PROBABILITY of the time, when
  `photos` is a Photos of this size) or a procedural texture."""
  if photos is not None and rng.uniform() < PHOTO_PROBABILITY:
    return photos.sample(rng)
  return procedural(rng, size)


class Photos:
  """Random crops of the images in a folder (searched recursively), cached once decoded.

  Args:
    directory: folder of .jpg/.jpeg/.png/.bmp/.webp files.
    size: side of the crops `sample` returns; photos are decoded at no more than twice it.
  """

  def __init__(self, directory, size):
    if not os.path.isdir(directory):
      raise FileNotFoundError(f"backgrounds folder not found: {directory}")
    self.paths = sorted(os.path.join(root, name) for root, _, names in os.walk(directory)
                        for name in names if name.lower().endswith(_PHOTO_SUFFIXES))
    if not self.paths:
      raise ValueError(f"backgrounds folder {directory} holds no images "
                       f"({', '.join(_PHOTO_SUFFIXES)})")
    self.size = size
    self._load = functools.lru_cache(_CACHED_PHOTOS)(self._decode)

  def sample(self, rng):
    """[size, size, 3] uint8 RGB: a random square crop of a random photo, maybe mirrored."""
    photo = self._load(self.paths[rng.integers(len(self.paths))])
    height, width = photo.shape[:2]
    side = int(min(height, width) * rng.uniform(_MIN_CROP, 1.0))
    top, left = rng.integers(height - side + 1), rng.integers(width - side + 1)
    crop = photo[top:top + side, left:left + side]
    if rng.uniform() < 0.5:
      crop = crop[:, ::-1]
    interpolation = cv2.INTER_AREA if side > self.size else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(crop), (self.size, self.size),
                      interpolation=interpolation)

  def _decode(self, path):
    """RGB photo decoded at a reduced size where the file is large (JPEG decodes fastest so)."""
    data = np.fromfile(path, np.uint8)
    image = None
    for factor, flag in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
                         (2, cv2.IMREAD_REDUCED_COLOR_2), (1, cv2.IMREAD_COLOR)):
      image = cv2.imdecode(data, flag)
      if image is None:
        raise ValueError(f"background photo {path} is not a readable image")
      if factor == 1 or min(image.shape[:2]) >= 2 * self.size:
        break
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

  def __getstate__(self):  # the cache stays in its process
    state = dict(self.__dict__)
    del state["_load"]
    return state

  def __setstate__(self, state):
    self.__dict__.update(state)
    self._load = functools.lru_cache(_CACHED_PHOTOS)(self._decode)


def _colors(rng, count):
  """[count, 3] RGB in [0, 1], mostly muted as in real scenes (saturation skewed low)."""
  return np.array([colorsys.hsv_to_rgb(rng.uniform(), rng.uniform() ** 2, rng.uniform(0.1, 1.0))
                   for _ in range(count)])


def _grid(size):
  """[size, size] x and y in [0, 1]."""
  t = np.linspace(0.0, 1.0, size)
  return np.meshgrid(t, t)


def _gradient(rng, size):
  x, y = _grid(size)
  angle = rng.uniform(0, 2 * np.pi)
  t = np.clip(0.5 + (x - 0.5) * np.cos(angle) + (y - 0.5) * np.sin(angle), 0, 1)[..., None]
  a, b = _colors(rng, 2)
  return a + t * (b - a)


def _noise(rng, size):
  """Value noise: coarse random grids upsampled smoothly, two octaves, between two colours."""
  t = np.zeros((size, size), np.float32)
  for weight in (0.7, 0.3):
    cells = int(rng.integers(2, 24))
    coarse = rng.uniform(0, 1, size=(cells, cells)).astype(np.float32)
    t += weight * cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
  a, b = _colors(rng, 2)
  return a + t[..., None] * (b - a)


def _stripes(rng, size):
  x, y = _grid(size)
  angle = rng.uniform(0, np.pi)
  frequency = rng.uniform(2, 20)
  wave = np.sin(2 * np.pi * frequency * (x * np.cos(angle) + y * np.sin(angle)))
  t = (0.5 + 0.5 * np.tanh(wave * rng.uniform(1, 10)))[..., None]  # soft to hard edges
  a, b = _colors(rng, 2)
  return a + t * (b - a)


def _checkers(rng, size):
  x, y = _grid(size)
  angle = rng.uniform(0, np.pi / 2)
  frequency = rng.uniform(2, 12)
  u = x * np.cos(angle) + y * np.sin(angle)
  v = -x * np.sin(angle) + y * np.cos(angle)
  t = ((np.floor(u * frequency) + np.floor(v * frequency)) % 2)[..., None]
  a, b = _colors(rng, 2)
  return a + t * (b - a)


def _blobs(rng, size):
  """Soft ellipses of random colours over a base colour."""
  image = np.ones((size, size, 3), np.float32) * _colors(rng, 1)[0].astype(np.float32)
  for _ in range(rng.integers(3, 15)):
    center = tuple(int(c) for c in rng.integers(0, size, 2))
    axes = tuple(int(a) for a in rng.integers(size // 20 + 1, size // 3 + 2, 2))
    color = tuple(float(c) for c in _colors(rng, 1)[0])
    cv2.ellipse(image, center, axes, float(rng.uniform(0, 180)), 0, 360, color, -1, cv2.LINE_AA)
  return cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 0.03 * size + 0.5))


def _room(rng, size):
  """A wall above a floor, each its own texture, split at a random horizon."""
  horizon = int(size * rng.uniform(0.3, 0.8))
  wall, floor = (_TEXTURES[i](rng, size) for i in rng.integers(4, size=2))
  return np.concatenate([wall[:horizon], floor[horizon:]], axis=0)


# _room draws its wall and floor from the first four.
_TEXTURES = (_gradient, _noise, _stripes, _checkers, _blobs, _room)

