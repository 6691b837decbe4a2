"""TFLite variants: each against the Keras model, each run by ai-edge-litert without TensorFlow."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from ai_edge_litert import interpreter
from tensorflow.lite.python import schema_py_generated as tflite_schema

import export_fixtures
from hmr_tf.export import tflite
from hmr_tf.export import writer

# Max |error| against Keras float32 on crops the calibration never saw (Θ; vertices and
# keypoints in metres). Quantizing SMPL's constants (int8_dynamic) costs millimetres; the
# full-integer file keeps them float and quantizes the encoder only.
TOLERANCES = {
    "fp32": {"theta": 1e-5, "vertices": 1e-5, "keypoints3d": 1e-5},
    "fp16": {"theta": 5e-3, "vertices": 3e-3, "keypoints3d": 3e-3},
    "int8_dynamic": {"theta": 5e-3, "vertices": 1e-2, "keypoints3d": 1e-2},
    "int8": {"theta": 2e-3, "vertices": 2e-3, "keypoints3d": 2e-3},
}


def _run_crops(path, crops):
  runner = interpreter.Interpreter(model_path=path).get_signature_runner("serve_crops")
  batch = runner.get_input_details()["crops"]["shape_signature"][0]
  parts = [runner(crops=crops[i:i + 1]) for i in range(len(crops))] if batch == 1 else \
      [runner(crops=crops)]
  return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


@pytest.mark.parametrize("variant", tflite.VARIANTS)
def test_variant_matches_keras(variant):
  crops = export_fixtures.crops(6, seed=11)  # never seen in calibration
  expected = export_fixtures.model()(crops, training=False)
  got = _run_crops(export_fixtures.tflite_file(variant), crops)
  for key, tolerance in TOLERANCES[variant].items():
    np.testing.assert_allclose(got[key], expected[key].numpy(), rtol=0, atol=tolerance,
                               err_msg=f"{variant} {key}")


def test_file_sizes():
  sizes = {v: os.path.getsize(export_fixtures.tflite_file(v)) for v in tflite.VARIANTS}
  assert sizes["fp16"] < 0.55 * sizes["fp32"]
  assert sizes["int8_dynamic"] < 0.35 * sizes["fp32"]
  # The full-integer file keeps the regressor and SMPL float: smaller than float only by the
  # encoder's share, which is small in this small model.
  assert sizes["int8_dynamic"] < sizes["int8"] < sizes["fp32"]


def test_int8_keeps_everything_but_the_encoder_float():
  """Only the encoder's ops and the tensors they read or write are int8 (its input, too)."""
  with open(export_fixtures.tflite_file("int8"), "rb") as f:
    model = tflite_schema.Model.GetRootAsModel(f.read(), 0)
  int8 = tflite_schema.TensorType.INT8
  counts = {"encoder": 0, "elsewhere": 0}
  for g in range(model.SubgraphsLength()):
    subgraph = model.Subgraphs(g)
    operators = [subgraph.Operators(o) for o in range(subgraph.OperatorsLength())]
    encoder_tensors = set()
    for op in operators:
      outputs = op.OutputsAsNumpy()
      name = subgraph.Tensors(outputs[0]).Name().decode()
      if tflite.in_scopes(name, ("small",)) or name.startswith("tfl.quantize"):
        encoder_tensors.update(op.InputsAsNumpy().tolist() + outputs.tolist())
    for op in operators:
      for index in op.OutputsAsNumpy():
        if subgraph.Tensors(index).Type() == int8:
          counts["encoder" if index in encoder_tensors else "elsewhere"] += 1
  assert counts["encoder"] > 20 and counts["elsewhere"] == 0, counts


def test_every_variant_runs_without_tensorflow(tmp_path):
  """ai-edge-litert alone, through hmr_tf.inference, with `import tensorflow` made impossible."""
  paths = {v: export_fixtures.tflite_file(v) for v in tflite.VARIANTS}
  crops = export_fixtures.crops(2, seed=12)
  np.save(tmp_path / "crops.npy", crops)
  script = textwrap.dedent(f"""
      import json, sys
      sys.modules["tensorflow"] = None  # any import of TensorFlow now fails
      import numpy as np
      from hmr_tf.inference import Predictor
      crops = np.load({str(tmp_path / "crops.npy")!r})
      image = np.random.default_rng(0).integers(0, 255, (70, 50, 3), dtype=np.uint8)
      results = {{}}
      for variant, path in {paths!r}.items():
        predictor = Predictor(path)
        person = predictor.predict(image, box=(10, 10, 40, 60))
        results[variant] = {{"theta": predictor(crops)["theta"].tolist(),
                             "vertices": person.vertices.shape,
                             "whole_image": predictor.predict(image).theta.shape}}
      assert "tensorflow" not in [m.split(".")[0] for m in sys.modules if sys.modules[m]]
      print(json.dumps(results))
      """)
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
  done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                        check=False, timeout=300)
  assert done.returncode == 0, done.stderr[-3000:]
  results = json.loads(done.stdout.strip().splitlines()[-1])
  expected = export_fixtures.model()(crops, training=False)["theta"].numpy()
  num_vertices = export_fixtures.model().smpl.v_template.shape[1]
  for variant in tflite.VARIANTS:
    np.testing.assert_allclose(results[variant]["theta"], expected, rtol=0,
                               atol=TOLERANCES[variant]["theta"], err_msg=variant)
    assert results[variant]["vertices"] == [num_vertices, 3]
    assert results[variant]["whole_image"] == [85]


def test_report_of_every_variant():
  """hmr-export's report.json: sizes, errors on held-out crops, accuracy on a held-out split."""
  results = export_fixtures.export_report()
  assert set(results["file_mb"]) == set(results["max_errors"]) == set(tflite.VARIANTS)
  for variant, errors in results["max_errors"].items():
    tolerance = TOLERANCES[variant]
    assert errors["theta"] <= tolerance["theta"], variant
    assert errors["vertices_mm"] <= 1000 * tolerance["vertices"], variant
    assert errors["keypoints3d_mm"] <= 1000 * tolerance["keypoints3d"], variant
  accuracy = results["accuracy"]
  assert set(accuracy) == {"keras", *tflite.VARIANTS}
  assert accuracy["keras"]["pa_mpjpe"] > 0
  for variant in tflite.VARIANTS:
    change = accuracy[variant]["pa_mpjpe"] - accuracy["keras"]["pa_mpjpe"]
    assert accuracy[variant]["pa_mpjpe_change"] == pytest.approx(change)
    assert abs(change) < 2.0, variant  # mm: the target for int8


def test_a_failed_export_leaves_the_old_one(tmp_path, monkeypatch):
  output = tmp_path / "saved_models" / "q"
  output.mkdir(parents=True)
  (output / "saved_model.pb").write_text("the previous export")

  def fake_export(model, path, **kwargs):
    del model, kwargs
    os.makedirs(path)
    with open(os.path.join(path, "saved_model.pb"), "w", encoding="utf-8") as f:
      f.write("half of a new export")

  def failing_convert(*args, **kwargs):
    raise RuntimeError("converter crashed")

  monkeypatch.setattr(writer.saved_model, "export_saved_model", fake_export)
  monkeypatch.setattr(writer.tflite, "convert", failing_convert)
  with pytest.raises(RuntimeError, match="converter crashed"):
    writer.write_export(export_fixtures.model(), str(output), ["fp32"])
  assert (output / "saved_model.pb").read_text() == "the previous export"
  assert sorted(os.listdir(tmp_path / "saved_models")) == ["q"]  # no partial directory left
  with pytest.raises(ValueError, match="int8 variant needs calibration data"):
    writer.write_export(export_fixtures.model(), str(output), ["int8"])
  with pytest.raises(ValueError, match=r"unknown TFLite variants \['int4'\]"):
    writer.check_request(["fp32", "int4"], None)
