"""Each original converter's person-scale rule, on hand-made keypoints with known answers."""

import numpy as np
import pytest

from hmr_tf import joints
from hmr_tf.data.shards import SkipExample
from hmr_tf.datasets import person_scale


def keypoints(**points):
  """[19, 3] cocoplus keypoints: the named ones labelled at the given (x, y), the rest not."""
  out = np.zeros((len(joints.COCOPLUS_19), 3))
  for name, xy in points.items():
    out[joints.COCOPLUS_19.index(name)] = (*xy, 1)
  return out


def check(rule, points, center, scale):
  found_center, found_scale = person_scale.RULES[rule](points)
  np.testing.assert_allclose(found_center, center, atol=1e-9)
  np.testing.assert_allclose(found_scale, scale, rtol=1e-9)


# A box 90 × 120 px from (10, 20): diagonal 150 px, centre (55, 80).
_LEGS = dict(right_ankle=(10, 140), left_ankle=(100, 140), head_top=(55, 20))


@pytest.mark.parametrize("rule", ["diagonal", "mpii", "coco"])
def test_an_ankle_labelled_sizes_the_box_diagonal_to_150_px(rule):
  check(rule, keypoints(**_LEGS), (55, 80), 1.0)
  one_ankle = dict(_LEGS, left_ankle=(55, 110), nose=(100, 20))  # box 90 × 120 again
  check(rule, keypoints(**one_ankle), (55, 80), 1.0)


def test_diagonal_rule_ignores_missing_legs():
  # HMR's MPI-INF-3DHP rule: 150 px whatever is labelled. A 30 × 40 box: diagonal 50.
  check("diagonal", keypoints(head_top=(0, 0), left_hip=(30, 40)), (15, 20), 3.0)


def test_mpii_head_top_to_hip_is_75_px():
  # Head top to the right hip 50 px, to the left hip 30 px (a 3-4-5 triangle each): mean 40.
  points = keypoints(head_top=(0, 0), right_hip=(30, 40), left_hip=(18, 24),
                     right_shoulder=(0, 10), left_shoulder=(40, 10))
  check("mpii", points, (20, 20), 75 / 40)
  # With one hip only, that one.
  check("mpii", keypoints(head_top=(0, 0), left_hip=(18, 24), left_shoulder=(40, 10)),
        (20, 12), 75 / 30)


def test_mpii_shoulder_to_hip_on_the_same_side_is_56_px_without_the_head_top():
  points = keypoints(right_shoulder=(0, 0), right_hip=(0, 28), left_shoulder=(40, 0),
                     left_hip=(40, 20), right_wrist=(-10, 30))
  # Right side 28, left side 20: mean 24; the box (−10..40, 0..30) gives the centre.
  check("mpii", points, (15, 15), 56 / 24)
  # A shoulder of one side with the hip of the other is no pair.
  check("mpii", keypoints(right_shoulder=(0, 0), left_hip=(40, 28), left_shoulder=(40, 0)),
        (20, 14), 56 / 28)


def test_mpii_drops_a_person_with_no_ankle_head_top_or_torso_side():
  with pytest.raises(SkipExample, match="HMR's MPII rule"):
    person_scale.mpii(keypoints(right_shoulder=(0, 0), left_hip=(40, 28), neck=(20, -5)))


def test_coco_one_shoulder_hip_pair_is_75_px():
  # Only the left pair: 50 px. The right shoulder has no right hip.
  points = keypoints(left_shoulder=(40, 0), left_hip=(40, 50), right_shoulder=(0, 0),
                     nose=(20, -20), right_knee=(0, 80))
  check("coco", points, (20, 30), 75 / 50)
  both = keypoints(left_shoulder=(40, 0), left_hip=(40, 50), right_shoulder=(0, 0),
                   right_hip=(0, 30))
  check("coco", both, (20, 25), 75 / 40)


def test_coco_without_a_torso_pair_sizes_the_box_diagonal_to_50_px():
  # A knee, the shoulders and a face: box 60 × 80, diagonal 100.
  points = keypoints(right_knee=(0, 80), left_shoulder=(60, 10), right_shoulder=(0, 10),
                     nose=(30, 0))
  check("coco", points, (30, 40), 50 / 100)


def test_coco_drops_face_and_shoulders_only():
  with pytest.raises(SkipExample, match="only face and shoulders"):
    person_scale.coco(keypoints(left_shoulder=(60, 10), right_shoulder=(0, 10), nose=(30, 0)))


def test_as_released_keeps_the_image_scale():
  check("as_released", keypoints(head_top=(0, 0), left_ankle=(500, 700)), (250, 350), 1.0)


@pytest.mark.parametrize("rule", list(person_scale.RULES))
def test_every_rule_drops_a_person_without_labels_or_extent(rule):
  with pytest.raises(SkipExample, match="no keypoints labelled"):
    person_scale.RULES[rule](keypoints())
  if rule != "as_released":
    with pytest.raises(SkipExample, match="span no area"):
      person_scale.RULES[rule](keypoints(left_ankle=(5, 5), right_ankle=(5, 5)))
