"""Protocols on hand-made image ids, scoring on hand-made errors, and evaluate_model end to end
on a tiny synthetic split with fake models whose errors are known."""

import glob
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation
import tensorflow as tf

import training_world

from hmr_tf import joints
from hmr_tf.body import SMPL
from hmr_tf.checks import BadInput
from hmr_tf.data import pipeline
from hmr_tf.evaluation import baselines
from hmr_tf.evaluation import evaluate
from hmr_tf.evaluation import metrics
from hmr_tf.evaluation import plausibility
from hmr_tf.evaluation import protocols
from hmr_tf.evaluation import report
from hmr_tf.evaluation import scoring
from hmr_tf.models import HMR
from hmr_tf.synth import SynthWorld
from hmr_tf.synth import split
from hmr_tf.training import trainer

SIZE = 64
NUM = 10
_HIPS = joints.LSP_14.indices(["left_hip", "right_hip"])
_NOT_HIPS = [i for i in range(len(joints.LSP_14)) if i not in _HIPS]

# (image id, in protocol 1, in protocol 2, action), as SPIN's and mmpose's files name frames.
H36M_IDS = [
    ("images/S9_Directions_1.54138969_000001.jpg", True, False, "Directions"),  # trial 0, cam 0
    ("images/S9_Directions_1.60457274_000006.jpg", True, True, "Directions"),  # trial 0, cam 3
    ("images/S9_Directions.60457274_000001.jpg", True, False, "Directions"),  # trial 1
    ("S11_Directions.54138969_000001.jpg", False, False, "Directions"),  # the corrupt video
    ("S11_Directions.55011271_000001.jpg", True, False, "Directions"),
    ("S11_Directions_1.54138969_000001.jpg", True, False, "Directions"),
    ("S9_WalkDog_1.60457274_000001.jpg", True, True, "WalkingDog"),  # "WalkDog 1." first
    ("S9_WalkDog.60457274_000001.jpg", True, False, "WalkingDog"),
    ("S9_Eating_2.60457274_000001.jpg", True, True, "Eating"),  # "Eating 2." < "Eating."
    ("S9_Eating.60457274_000001.jpg", True, False, "Eating"),
    ("S11_Discussion_1.60457274_000001.jpg", True, True, "Discussion"),
    ("S11_Discussion_2.60457274_000001.jpg", True, False, "Discussion"),
    ("S11_Photo_1.60457274_000001.jpg", True, True, "TakingPhoto"),
    ("S1/S1_Directions_1.54138969/S1_Directions_1.54138969_000001.jpg", False, False,
     "Directions"),  # a training subject
]


def _skeletons(count, seed=0):
  return np.random.default_rng(seed).normal(scale=0.3, size=(count, 14, 3))


def _predictions(image_ids, gt, pred, dataset="h36m", **kwargs):
  n = len(image_ids)
  fields = dict(dataset=dataset, image_ids=np.array(image_ids), pred_joints=pred, gt_joints=gt,
                pve_mm=np.full(n, np.nan), gt_keypoints2d=np.zeros((n, 14, 3)))
  fields.update(kwargs)
  return evaluate.Predictions(**fields)


def _hips_moved(gt, metres):
  """gt with both hips moved by `metres` [N] along z. The pelvis moves with them, so after
  pelvis alignment the other 12 joints are `metres` off: MPJPE 12/14 · metres."""
  pred = gt.copy()
  pred[:, _HIPS, 2] += np.asarray(metres)[:, None]
  return pred


@pytest.mark.parametrize("name, column", [("h36m_p1", 1), ("h36m_p2", 2)])
def test_h36m_protocols_select_cameras_trials_and_skip_the_corrupt_video(name, column):
  ids = [row[0] for row in H36M_IDS]
  selection = protocols.PROTOCOLS[name].select(ids)
  np.testing.assert_array_equal(selection.mask, [row[column] for row in H36M_IDS])
  np.testing.assert_array_equal(selection.groups, [row[3] for row in H36M_IDS])
  assert selection.group_kind == "action"


def test_h36m_ids_parse_into_subject_take_camera_frame():
  frame = protocols.parse_h36m_id("images/S11_WalkTogether_1.58860488_001236.jpg")
  assert (frame.subject, frame.take, frame.camera, frame.frame) == ("S11", "WalkTogether 1", 2,
                                                                    1236)
  assert frame.action == "WalkTogether"
  for bad in ("images/im0001.jpg", "S9_Directions.12345678_000001.jpg",
              "S9_Dancing.54138969_000001.jpg"):
    with pytest.raises(BadInput, match="image_id"):
      protocols.parse_h36m_id(bad)


def test_h36m_ids_of_the_real_npz_files_parse(shared_data):
  for name in ("test_h36m.npz", "test_h36m_body3d.npz"):
    ids = np.load(os.path.join(shared_data, "mmpose_testdata", "h36m", name))["imgname"]
    frames = [protocols.parse_h36m_id(str(i)) for i in ids]
    assert [(f.subject, f.action, f.camera) for f in frames] == [
        ("S1", "Directions", 0), ("S5", "SittingDown", 0), ("S7", "Greeting", 1),
        ("S8", "WalkingDog", 1)]
    assert not protocols.PROTOCOLS["h36m_p1"].select([str(i) for i in ids]).mask.any()


def test_per_action_numbers_are_means_of_sequence_means():
  ids = ["S9_Walking.54138969_000001.jpg", "S9_Walking.54138969_000006.jpg",
         "S9_Walking.54138969_000011.jpg",  # sequence A: 3 frames, 12 mm each
         "S9_Walking.55011271_000001.jpg",  # sequence B: 1 frame, 24 mm
         "S9_Eating.54138969_000001.jpg"]  # another action: 6 mm
  gt = _skeletons(5)
  pred = _hips_moved(gt, np.array([14, 14, 14, 28, 7]) / 1000.0)
  results = scoring.score(_predictions(ids, gt, pred), protocols.PROTOCOLS["h36m_p1"])
  assert results["mpjpe"] == pytest.approx((3 * 12 + 24 + 6) / 5)  # over frames, as HMR's MPJPE
  assert results["per_action"]["Walking"]["mpjpe"] == pytest.approx((12 + 24) / 2)
  assert results["per_action"]["Walking"]["examples"] == 4
  assert results["per_action"]["Eating"]["mpjpe"] == pytest.approx(6)
  assert list(results["per_action"]) == ["Eating", "Walking"]  # HMR's table order
  assert results["mean_over_actions"]["mpjpe"] == pytest.approx((18 + 6) / 2)
  assert results["mpjpe_median"] == pytest.approx(12)
  assert results["pa_mpjpe"] < results["mpjpe"]
  np.testing.assert_allclose(results["per_joint"]["left_hip"]["mpjpe"], 0.0, atol=1e-9)
  assert results["per_joint"]["neck"]["mpjpe"] == pytest.approx((3 * 14 + 28 + 7) / 5)


def test_mpi_inf_3dhp_gives_pck_and_auc_per_sequence():
  ids = ["mpi_inf_3dhp_test_set/TS1/imageSequence/img_000001.jpg",
         "TS2/imageSequence/img_000001.jpg"]
  gt = _skeletons(2, seed=1)
  pred = gt.copy()
  pred[0, _NOT_HIPS] += [0.1, 0.0, 0.0]  # 100 mm: correct at 150 mm
  pred[1, _NOT_HIPS] += [0.0, 0.2, 0.0]  # 200 mm: wrong; the hips are right
  results = scoring.score(_predictions(ids, gt, pred, "mpi_inf_3dhp"),
                          protocols.PROTOCOLS["mpi_inf_3dhp"])
  assert results["per_sequence"]["TS1"]["pck"] == pytest.approx(100.0)
  assert results["per_sequence"]["TS2"]["pck"] == pytest.approx(100.0 * 2 / 14)
  assert results["pck"] == pytest.approx(100.0 * 16 / 28)
  # AUC: the hips (0 mm) are below 30 thresholds; 100 mm below the 10 thresholds 105…150.
  assert results["per_sequence"]["TS1"]["auc"] == pytest.approx(
      100.0 * (2 * 30 + 12 * 10) / (14 * 31))
  assert results["mpjpe"] == pytest.approx((1200 + 2400) / 28)
  assert {"pa_pck", "pa_auc", "mean_over_sequences"} <= set(results)


def test_lsp_scores_2d_pck_only():
  gt2d = np.zeros((2, 14, 3))
  gt2d[..., :2] = np.random.default_rng(2).uniform(-1, 1, size=(2, 14, 2))
  gt2d[..., 2] = 1.0
  pred2d = gt2d[..., :2].copy()
  pred2d[0, 0] += 10.0  # one joint of 28 far off
  results = scoring.score(
      _predictions(["im1001.jpg", "im1002.jpg"], np.full((2, 14, 3), np.nan),
                   np.zeros((2, 14, 3)), "lsp", gt_keypoints2d=gt2d, pred_keypoints2d=pred2d),
      protocols.PROTOCOLS["lsp"])
  assert results["pck2d"] == pytest.approx(100.0 * 27 / 28)
  assert results["per_joint"]["right_ankle"]["pck2d"] == pytest.approx(50.0)
  assert "mpjpe" not in results


def test_protocols_follow_the_dataset_name_unless_named():
  assert [p.name for p in protocols.protocols_for("h36m")] == ["h36m_p1", "h36m_p2"]
  assert [p.name for p in protocols.protocols_for("synth")] == ["all"]
  assert [p.name for p in protocols.protocols_for("h36m", "h36m_p2")] == ["h36m_p2"]
  assert [p.name for p in protocols.protocols_for("x", "pw3d, lsp")] == ["pw3d", "lsp"]
  with pytest.raises(ValueError, match="unknown protocol"):
    protocols.protocols_for("h36m", "h36m_p3")


def test_3dpw_groups_by_sequence_and_a_protocol_that_selects_nothing_says_so():
  ids = ["downtown_walking_00/image_00000.jpg#0", "imageFiles/office_phoneCall_00/image_00010.jpg"]
  selection = protocols.PROTOCOLS["pw3d"].select(ids)
  np.testing.assert_array_equal(selection.groups, ["downtown_walking_00", "office_phoneCall_00"])
  with pytest.raises(BadInput, match="3DPW sequence"):
    protocols.PROTOCOLS["pw3d"].select(["im0001.jpg"])
  gt = _skeletons(1)
  with pytest.raises(ValueError, match="selects none"):
    scoring.score(_predictions(["S8_Walking.54138969_000001.jpg"], gt, gt),
                  protocols.PROTOCOLS["h36m_p1"])


def test_flatten_keeps_every_number():
  flat = scoring.flatten({"protocol": "all", "mpjpe": 1.0, "examples": 3,
                          "per_joint": {"neck": {"mpjpe": 2.0}}, "h36m_p2": {"mpjpe": 3.0}})
  assert flat == {"mpjpe": 1.0, "examples": 3.0, "per_joint/neck/mpjpe": 2.0,
                  "h36m_p2/mpjpe": 3.0}


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
  """A tiny synthetic test split: 3D joints, SMPL parameters and 2D keypoints for every image."""
  directory = str(tmp_path_factory.mktemp("synth"))
  split.write_split(SynthWorld(["free"], image_size=SIZE, seed=3), directory, "test", NUM,
                    items_per_shard=4)
  return directory


class _FromTruth:
  """A fake model that answers each batch with its ground truth, transformed.

  It reads the split in the order evaluate_model does and checks that it was given the same
  images, so its answers line up with the examples.
  """

  image_size = SIZE

  def __init__(self, directory, batch_size, transform):
    self._batches = iter(pipeline.eval_dataset(directory, batch_size, SIZE, "test"))
    self._transform = transform
    self._smpl = SMPL("free")

  def __call__(self, images):
    batch = next(self._batches)
    np.testing.assert_array_equal(images, batch["image"].numpy())
    body = self._smpl(batch["pose"], batch["shape"])
    return self._transform(batch, {k: v.numpy().astype(np.float64) for k, v in body.items()})


def _similar(batch, body):
  """The stored 3D joints moved by a similarity: MPJPE > 0, PA-MPJPE 0."""
  del body
  gt = batch["keypoints3d"].numpy().astype(np.float64)
  rotation = Rotation.from_euler("xyz", [20, -35, 50], degrees=True).as_matrix()
  return {"keypoints3d": 1.3 * gt @ rotation.T + [0.1, -0.2, 0.3]}


_OFFSET = np.array([0.03, 0.0, -0.04])  # 50 mm
_VERTEX_SHIFT = np.array([0.0, 0.012, 0.0])  # 12 mm


def _offset(batch, body):
  """The body's joints 50 mm off but for the hips, its mesh moved 12 mm, exact 2D keypoints."""
  keypoints3d = body["keypoints"].copy()
  keypoints3d[:, _NOT_HIPS] += _OFFSET
  return {"keypoints3d": keypoints3d, "vertices": body["vertices"] + _VERTEX_SHIFT,
          "keypoints2d": batch["keypoints2d"].numpy()[..., :2]}


def test_evaluate_model_gives_pa_mpjpe_zero_for_a_similar_pose(synth_dir):
  results = evaluate.evaluate_model(_FromTruth(synth_dir, 4, _similar), synth_dir,
                                    batch_size=4)
  assert results["protocol"] == "all" and results["examples_3d"] == NUM
  assert results["pa_mpjpe"] == pytest.approx(0.0, abs=1e-3)
  assert results["mpjpe"] > 10.0
  assert "pve" not in results and "pck2d" not in results  # no vertices, no 2D keypoints


def test_evaluate_model_gives_the_known_offsets(synth_dir):
  results = evaluate.evaluate_model(_FromTruth(synth_dir, 3, _offset), synth_dir,
                                    batch_size=3, body_model="free")
  # The stored joints are the free body's, so only the offset remains (float32 storage).
  assert results["mpjpe"] == pytest.approx(12 * 50.0 / 14, abs=1e-2)
  assert results["per_joint"]["neck"]["mpjpe"] == pytest.approx(50.0, abs=1e-2)
  assert results["pve"] == pytest.approx(12.0, abs=1e-6)
  assert results["examples_pve"] == NUM
  assert results["pck2d"] == pytest.approx(100.0)


def test_predict_names_a_missing_output_and_a_foreign_mesh(synth_dir):
  with pytest.raises(ValueError, match="lack 'keypoints3d'"):
    evaluate.predict(_FromTruth(synth_dir, 5, lambda b, body: {}), synth_dir, batch_size=5)
  foreign = lambda b, body: {"keypoints3d": body["keypoints"], "vertices": np.zeros((5, 7, 3))}
  with pytest.raises(ValueError, match="vertices"):
    evaluate.predict(_FromTruth(synth_dir, 5, foreign), synth_dir, batch_size=5)


def test_evaluate_model_runs_an_hmr_model(synth_dir):
  # The keras path (a tf.function, training=False, batches of 4 and a last one of 2) against
  # one eager call on the whole split.
  model = HMR(encoder="small", image_size=SIZE)
  results = evaluate.evaluate_model(model, synth_dir, batch_size=4)
  batch = next(iter(pipeline.eval_dataset(synth_dir, NUM, SIZE, "test")))
  out = model(batch["image"], training=False)
  expected = metrics.mpjpe(out["keypoints3d"].numpy()[:, :14] * 1000.0,
                           batch["keypoints3d"].numpy() * 1000.0)
  assert results["mpjpe"] == pytest.approx(expected.mean(), rel=1e-4)
  assert results["examples_pve"] == NUM and "pck2d" in results  # the model's own mesh


def test_report_writes_every_number_and_predictions_that_recompute_them(synth_dir, tmp_path):
  predictions = evaluate.predict(_FromTruth(synth_dir, 4, _offset), synth_dir, batch_size=4,
                                 body_model="free")
  results = scoring.score_all(predictions, protocols.protocols_for("synth", "all,lsp"))
  paths = report.write(str(tmp_path), results, predictions)
  assert sorted(os.path.basename(p) for p in paths) == [
      "metrics.json", "per_joint.png", "predictions.npz"]
  with open(tmp_path / "metrics.json", encoding="utf-8") as f:
    assert json.load(f) == results
  saved = np.load(tmp_path / "predictions.npz")
  assert saved["pred_joints"].shape == saved["gt_joints"].shape == (NUM, 14, 3)
  assert list(saved["image_ids"]) == list(predictions.image_ids)
  recomputed = metrics.mpjpe(saved["pred_joints"] * 1000.0, saved["gt_joints"] * 1000.0)
  assert recomputed.mean() == pytest.approx(results["mpjpe"], abs=1e-3)
  plot = cv2.imread(str(tmp_path / "per_joint.png"))
  assert plot.shape[0] > 14 * 20 and plot.min() < 128  # a row per joint, something drawn
  text = report.tables(results)
  assert "protocol all" in text and "protocol lsp" in text
  assert "| neck | 50.00 |" in text


@pytest.fixture(scope="module")
def trained(synth_dir, tmp_path_factory):
  """Two steps of the tiny quickstart run that evaluate synth_dir after each.

  Returns:
    (workdir, {step: MPJPE} that hmr-train logged to TensorBoard for synth_dir).
  """
  root = str(tmp_path_factory.mktemp("run"))
  config = training_world.tiny_config(training_world.write_world(root, num=8), {
      "train.steps": 2, "data.eval": synth_dir, "data.eval_split": "test",
      "eval.every_steps": 1, "eval.batch_size": 4})
  workdir = os.path.join(root, "workdir")
  trainer.train(config, workdir)
  tag = f"eval/{os.path.basename(synth_dir)}/mpjpe"
  logged = {}
  for path in glob.glob(os.path.join(workdir, "logs", "*")):
    for record in tf.data.TFRecordDataset(path):
      event = tf.compat.v1.Event.FromString(record.numpy())
      logged.update({event.step: float(tf.make_ndarray(v.tensor))
                     for v in event.summary.value if v.tag == tag})
  return workdir, logged


def test_hmr_train_logs_the_evaluation_every_eval_steps(trained):
  _, logged = trained
  assert sorted(logged) == [1, 2]
  assert all(np.isfinite(v) and v > 0 for v in logged.values())


def test_hmr_evaluate_end_to_end_on_a_workdir(trained, synth_dir, tmp_path):
  workdir, logged = trained
  output = tmp_path / "eval"
  result = subprocess.run(
      [sys.executable, "-m", "hmr_tf.cli.evaluate", f"--workdir={workdir}",
       f"--dataset={synth_dir}", f"--output={output}", "--save_predictions",
       "--protocol=all", "--batch_size=3"], capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stderr
  assert "protocol all" in result.stdout and "| joint | MPJPE | PA-MPJPE |" in result.stdout
  with open(output / "metrics.json", encoding="utf-8") as f:
    metrics_json = json.load(f)
  # The restored last checkpoint scores what the trainer logged with the model in memory.
  assert metrics_json["mpjpe"] == pytest.approx(logged[2], rel=1e-4)
  assert {"pa_mpjpe", "mpjpe_median", "per_joint", "pve", "pck2d"} <= set(metrics_json)
  saved = np.load(output / "predictions.npz")
  assert saved["pred_joints"].shape == saved["gt_joints"].shape == (NUM, 14, 3)
  assert os.path.getsize(output / "per_joint.png") > 0


def test_hmr_evaluate_wants_a_workdir_or_a_model(synth_dir, tmp_path):
  result = subprocess.run(
      [sys.executable, "-m", "hmr_tf.cli.evaluate", f"--dataset={synth_dir}",
       f"--output={tmp_path}"], capture_output=True, text=True, check=False)
  assert result.returncode != 0 and "--workdir" in result.stderr and "--model" in result.stderr


def test_the_constant_baseline_scores_zero_only_where_its_pose_is_the_truth(synth_dir):
  first = next(iter(pipeline.eval_dataset(synth_dir, 1, SIZE, "test")))
  theta = np.concatenate([[0.9, 0.0, 0.0], first["pose"].numpy()[0], first["shape"].numpy()[0]])
  model = baselines.ConstantModel(theta, "free", SIZE)
  predictions = evaluate.predict(model, synth_dir, batch_size=3)
  errors = metrics.joint_errors(predictions.pred_joints * 1000, predictions.gt_joints * 1000)
  per_example = errors.mean(axis=1)
  assert per_example[0] < 0.5  # float32 storage of the ground truth
  assert np.all(per_example[1:] > 10.0)


def test_plausibility_counts_joint_rotations_far_from_the_pool():
  rng = np.random.default_rng(0)
  pool = np.zeros((500, 72))
  pool[:, 12] = rng.uniform(0, np.radians(90), 500)  # joint 4 (a knee) bends about x, 0–90°
  pool[0, 12] = 0.0
  inside = np.zeros((2, 72))
  inside[:, 12] = np.radians([10, 80])
  assert plausibility.outside_share(inside, pool) == 0.0
  monster = np.zeros((2, 72))
  monster[0, 12] = np.radians(-60)  # bent backwards: 60° from the pool's nearest (0°)
  monster[1, 13] = np.radians(40)  # twisted about y: 40° from any pool rotation
  assert plausibility.outside_share(monster, pool) == 2 / (2 * 23)
  np.testing.assert_allclose(plausibility.nearest_angles(monster, pool)[0, 3], 60.0, atol=1e-6)
