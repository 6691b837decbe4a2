"""Joint-set maps against the index lists of the original code bases, written out by hand."""

import numpy as np
import pytest

from hmr_tf import joints


def test_cocoplus_flip_is_hmrs():
  # akanazawa/hmr src/util/data_utils.py: the cocoplus swap used when flipping images.
  hmr_swap = [5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13, 14, 16, 15, 18, 17]
  np.testing.assert_array_equal(joints.flip_permutation(joints.COCOPLUS_19), hmr_swap)


def test_coco_to_cocoplus_is_hmrs():
  # akanazawa/hmr src/datasets/coco_to_tfrecords.py, convert_coco2universal: UNIVERSAL_BODIES,
  # two missing rows (neck, head top), then COCO's rows 0-4 (the face, ears left first).
  universal = [16, 14, 12, 11, 13, 15, 10, 8, 6, 5, 7, 9, -1, -1, 0, 1, 2, 3, 4]
  np.testing.assert_array_equal(joints.index_map(joints.COCO_17, joints.COCOPLUS_19), universal)


def test_smpl_flip_swaps_left_and_right():
  expected = [0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20, 23, 22]
  np.testing.assert_array_equal(joints.flip_permutation(joints.SMPL_24), expected)


@pytest.mark.parametrize("joint_set", list(joints.JOINT_SETS.values()), ids=lambda s: s.name)
def test_every_flip_is_an_involution_that_keeps_sides_paired(joint_set):
  perm = joints.flip_permutation(joint_set)
  np.testing.assert_array_equal(perm[perm], np.arange(len(joint_set)))
  for i, j in enumerate(perm):
    if i != j:
      assert {joint_set.names[i].split("_", 1)[0], joint_set.names[j].split("_", 1)[0]} == {"left", "right"}


def test_h36m_to_lsp_is_spins():
  # nkolot/SPIN constants.py: H36M_TO_J14, the evaluation joints from J_regressor_h36m.
  np.testing.assert_array_equal(joints.index_map(joints.H36M_17, joints.LSP_14),
                                [6, 5, 4, 1, 2, 3, 16, 15, 14, 11, 12, 13, 8, 10])


def test_mpii_to_lsp_uses_upper_neck_and_head_top():
  np.testing.assert_array_equal(joints.index_map(joints.MPII_16, joints.LSP_14),
                                [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 8, 9])


def test_3dhp_28_to_17_is_the_test_set_order():
  # The 17 test joints as indices into the 28 training joints (the dataset's own table).
  np.testing.assert_array_equal(joints.index_map(joints.MPI_INF_3DHP_28, joints.MPI_INF_3DHP_17),
                                [7, 5, 14, 15, 16, 9, 10, 11, 23, 24, 25, 18, 19, 20, 4, 3, 6])


def test_convert_fills_missing_joints_as_invisible():
  coco = np.arange(17 * 3, dtype=float).reshape(17, 3) + 1
  cocoplus = joints.convert(coco, joints.COCO_17, joints.COCOPLUS_19)
  assert cocoplus.shape == (19, 3)
  np.testing.assert_array_equal(cocoplus[12], 0)
  np.testing.assert_array_equal(cocoplus[0], coco[16])  # right ankle
  np.testing.assert_array_equal(cocoplus[15], coco[1])  # left eye


def test_convert_checks_the_joint_count():
  with pytest.raises(ValueError, match="expected 17 coco_17 joints"):
    joints.convert(np.zeros((14, 3)), joints.COCO_17, joints.LSP_14)


def test_smpl_parents_form_a_tree_rooted_at_the_pelvis():
  parents = joints.SMPL_PARENTS
  assert len(parents) == len(joints.SMPL_24) and parents[0] == -1
  assert all(0 <= p < j for j, p in enumerate(parents) if j)
  names = joints.SMPL_24.names
  assert names[parents[names.index("left_wrist")]] == "left_elbow"
