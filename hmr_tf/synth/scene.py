"""The camera and the look of a synthetic sample: framing, clothing colours, light, lens effects.

Framing follows the stored-image convention of hmr_tf.data.schema: the person's keypoint
bounding-box diagonal is about PERSON_SIZE / REFERENCE_SIZE of the image side, centred, with
this world's own moderate jitter on top (the training pipeline adds HMR's augmentation later),
and now and then a larger, off-centre person whose limbs leave the image (truncation).
"""

import colorsys
import dataclasses

import cv2
import numpy as np

from hmr_tf import joints
from hmr_tf.data import schema

# Focal length in image sides, log-uniform: 0.8 is a phone's wide angle seen through HMR's crop
# (a 1.7 m person 3 m away), 3 a telephoto shot from across a sports field.
FOCAL_RANGE = (0.8, 3.0)
SCALE_RANGE = (0.85, 1.15)  # person size around PERSON_SIZE
SHIFT = 0.05  # centre jitter, in image sides
TRUNCATION_PROBABILITY = 0.15
TRUNCATION_SCALE_RANGE = (1.3, 1.9)
TRUNCATION_SHIFT = 0.2
_NEAREST = 0.5  # metres: no keypoint comes nearer the camera (close-ups distort too much)
_PLACEMENT_STEPS = 6  # fixed-point iterations of `place`; the error shrinks ~10× per step

# Skin tones from light to dark (RGB in [0, 1]); a body's tone is drawn along this line.
_SKIN_TONES = np.array([(0.98, 0.85, 0.75), (0.93, 0.76, 0.63), (0.85, 0.65, 0.50),
                        (0.73, 0.53, 0.38), (0.58, 0.40, 0.27), (0.42, 0.28, 0.19),
                        (0.30, 0.20, 0.14)])

# What covers each SMPL joint's skinning region: sleeves and trouser legs come in lengths.
_SKIN = ("smpl_neck", "head", "left_wrist", "right_wrist", "left_hand", "right_hand")
_TOP = ("spine1", "spine2", "spine3", "left_collar", "right_collar")
_UPPER_ARMS = ("left_shoulder", "right_shoulder")
_FOREARMS = ("left_elbow", "right_elbow")
_BOTTOM = ("pelvis", "left_hip", "right_hip")
_SHINS = ("left_knee", "right_knee")
_SHOES = ("left_ankle", "right_ankle", "left_foot", "right_foot")


@dataclasses.dataclass(frozen=True)
class Look:
  """How one sample is drawn (all colours RGB in [0, 1])."""

  joint_colors: np.ndarray  # [24, 3] colour of each SMPL joint's skinning region
  hair_color: np.ndarray  # [3], or None for no hair
  light_dir: np.ndarray  # [3] towards the light, camera frame
  ambient: float
  blur: float  # Gaussian sigma in pixels, 0 for none
  noise: float  # sensor noise sigma in grey levels
  background_seed: int  # seeds this sample's background and sensor noise


def sample_framing(rng, image_size):
  """(focal length, target keypoint-box diagonal, target centre [2]), all in pixels."""
  focal = image_size * np.exp(rng.uniform(*np.log(FOCAL_RANGE)))
  if rng.uniform() < TRUNCATION_PROBABILITY:
    scale, shift = rng.uniform(*TRUNCATION_SCALE_RANGE), TRUNCATION_SHIFT
  else:
    scale, shift = rng.uniform(*SCALE_RANGE), SHIFT
  size = scale * schema.PERSON_SIZE * image_size / schema.REFERENCE_SIZE
  center = (image_size - 1) / 2 + rng.uniform(-shift, shift, size=2) * image_size
  return focal, size, center


def place(keypoints, focal, principal, size, center):
  """Translations that frame each body: the projected keypoints' bounding box gets diagonal
  `size` and centre `center`, unless that would bring a keypoint nearer than 0.5 m.

  A pinhole's image size falls as 1 / depth, and a sideways shift moves the image by
  focal · shift / depth, so both are corrected by fixed-point steps.

  Args:
    keypoints: [N, K, 3] posed keypoints, camera orientation, before translation.
    focal: [N] focal lengths in pixels; principal: the principal point (same for u and v).
    size: [N] target diagonals; center: [N, 2] target centres (pixels).

  Returns:
    [N, 3] translations.
  """
  focal = np.asarray(focal, np.float64)[:, None]
  extent = keypoints[..., :2].max(axis=1) - keypoints[..., :2].min(axis=1)  # [N, 2]
  depth = focal[:, 0] * np.linalg.norm(extent, axis=1) / size
  shift = np.zeros((len(keypoints), 2))
  for _ in range(_PLACEMENT_STEPS):
    depth = np.maximum(depth, _NEAREST - keypoints[..., 2].min(axis=1))
    points = keypoints + np.concatenate([shift, depth[:, None]], axis=1)[:, None]
    uv = focal[:, None] * points[..., :2] / points[..., 2:] + principal  # [N, K, 2]
    low, high = uv.min(axis=1), uv.max(axis=1)
    shift += (center - (low + high) / 2) * depth[:, None] / focal
    depth *= np.linalg.norm(high - low, axis=1) / size
  depth = np.maximum(depth, _NEAREST - keypoints[..., 2].min(axis=1))
  return np.concatenate([shift, depth[:, None]], axis=1)


def sample_look(rng):
  """Random clothes, skin, hair, light and lens for one sample."""
  names = joints.SMPL_24
  skin = _skin_tone(rng.uniform())
  top, bottom = _cloth_color(rng), _cloth_color(rng)
  colors = np.zeros((len(names), 3))
  regions = [(_SKIN, skin), (_TOP, top), (_BOTTOM, bottom),
             (_SHOES, _cloth_color(rng, brightness=(0.05, 0.6))),
             # sleeves: none, short or long; trousers: shorts or long
             (_UPPER_ARMS, top if rng.uniform() < 0.8 else skin),
             (_FOREARMS, top if rng.uniform() < 0.5 else skin),
             (_SHINS, bottom if rng.uniform() < 0.7 else skin)]
  for region, color in regions:
    colors[names.indices(region)] = color
  hair = _cloth_color(rng, saturation=(0.1, 0.6), brightness=(0.05, 0.5))
  return Look(
      joint_colors=colors,
      hair_color=hair if rng.uniform() < 0.9 else None,
      # Mostly from the front, above the camera (y is down), either side.
      light_dir=np.array([rng.uniform(-1, 1), rng.uniform(-1, 0.3), -rng.uniform(0.3, 1)]),
      ambient=rng.uniform(0.25, 0.6),
      blur=rng.uniform(0.0, 0.8),
      noise=rng.uniform(0.0, 4.0),
      background_seed=int(rng.integers(2**63)))


def vertex_colors(look, skinning_weights, hair):
  """[V, 3] colours: joint colours blended by skinning weight ([V, 24]), then hair ([V] in
  [0, 1]) painted over."""
  colors = skinning_weights @ look.joint_colors
  if look.hair_color is not None:
    colors += hair[:, None] * (look.hair_color - colors)
  return np.clip(colors, 0.0, 1.0)


def hair_weights(v_template, skinning_weights, rest_joints):
  """[V] in [0, 1]: how much each rest-pose vertex is hair: the head's region above the brow
  and behind the ears (the body faces +z, y up), with a soft 2 cm edge."""
  head = joints.SMPL_24.index("head")
  offset = v_template - rest_joints[head]
  height = np.clip((offset[:, 1] - 0.04) / 0.02, 0.0, 1.0)  # above the brow
  back = np.clip((-offset[:, 2] - 0.02) / 0.02, 0.0, 1.0) * (offset[:, 1] > -0.05)
  return np.clip(skinning_weights[:, head] * 2 - 1, 0.0, 1.0) * np.maximum(height, back)


def lens(image, look, rng):
  """Blur and sensor noise: a rendered image is sharper and cleaner than any photo."""
  if look.blur > 0.3:
    image = cv2.GaussianBlur(image, (0, 0), look.blur)
  noisy = image + look.noise * rng.standard_normal(image.shape, dtype=np.float32)
  return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def _skin_tone(t):
  """The tone at t in [0, 1] along _SKIN_TONES, linearly interpolated."""
  position = t * (len(_SKIN_TONES) - 1)
  i = min(int(position), len(_SKIN_TONES) - 2)
  return _SKIN_TONES[i] + (position - i) * (_SKIN_TONES[i + 1] - _SKIN_TONES[i])


def _cloth_color(rng, saturation=(0.0, 0.85), brightness=(0.1, 0.95)):
  return np.array(colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(*saturation),
                                      rng.uniform(*brightness)))
