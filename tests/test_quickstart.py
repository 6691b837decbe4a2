"""hmr-quickstart (what `make demo` runs) end to end, on a few images."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np


def test_quickstart_writes_every_result(tmp_path):
  result = subprocess.run([sys.executable, "-m", "hmr_tf.cli.quickstart",
                           f"--output={tmp_path}", "--num=16", "--image_size=64",
                           "--train_steps=2"],
                          capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  info = json.loads((tmp_path / "synth" / "info.json").read_text())
  assert info["splits"]["train"]["examples"] == 16
  mocap = json.loads((tmp_path / "mocap_joint_limits" / "info.json").read_text())
  assert mocap["kind"] == "mocap" and mocap["splits"]["train"]["examples"] == 48
  sheet = cv2.imread(str(tmp_path / "input_batch.png"))
  assert sheet.shape == (4 * 64, 4 * 64, 3)
  overlay = cv2.imread(str(tmp_path / "overlay.png")).astype(float)
  left, right = np.split(overlay, 2, axis=1)
  assert np.abs(left - right).mean() > 1.0  # the mesh was drawn over the image
  lines = (tmp_path / "person_0.obj").read_text().splitlines()
  assert sum(l.startswith("v ") for l in lines) == 1500  # the shipped lite free body
  assert os.path.isfile(tmp_path / "body_walking.obj")
  assert os.path.isfile(tmp_path / "run" / "checkpoints" / "ckpt-2.index")  # trained 2 steps
  assert "hmr-quickstart: training steps 1-2: encoder" in result.stderr
