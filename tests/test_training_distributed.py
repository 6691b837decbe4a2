"""hmr-train across processes and devices, each run in a fresh process: a resumed run (after a
stop, and after kill -9) ends exactly where an uninterrupted one does; two mirrored replicas
update the weights as one device does; two workers under MultiWorkerMirroredStrategy stay
identical and resume from the chief's checkpoint."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import training_world

TIMEOUT = 600  # seconds for any one process; a busy 2-core machine is slow, not stuck
STEPS = 8  # of the resume runs; checkpoints every 2 (training_world.DETERMINISTIC)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
  root = str(tmp_path_factory.mktemp("world"))
  with open(os.path.join(root, "world.json"), "w", encoding="utf-8") as f:
    json.dump(training_world.write_world(root), f)
  return root


def _scenario(name, *args, env=None):
  """A process running training_world.<name>(*args)."""
  return subprocess.Popen([sys.executable, training_world.__file__, name, *args], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _finish(process):
  _, stderr = process.communicate(timeout=TIMEOUT)
  assert process.returncode == 0, stderr[-3000:]


def _assert_same_values(expected, actual):
  assert sorted(expected) == sorted(actual)
  for name, value in expected.items():
    assert np.array_equal(value, actual[name]), name


def _has_checkpoint(workdir):
  """Whether the checkpoint state file names a finished checkpoint (written after its files)."""
  try:
    with open(os.path.join(workdir, "checkpoints", "checkpoint"), encoding="utf-8") as f:
      return "ckpt-" in f.read()
  except FileNotFoundError:
    return False


def test_a_resumed_run_equals_an_uninterrupted_one_after_a_stop_and_after_kill_9(world):
  stopped_and_resumed = _scenario("resume_in_process", world, str(STEPS))
  folders = json.loads(open(os.path.join(world, "world.json"), encoding="utf-8").read())
  killed_dir = os.path.join(world, "killed")
  command = [sys.executable, "-m", "hmr_tf.cli.train", f"--workdir={killed_dir}",
             *training_world.cli_flags(folders, {**training_world.DETERMINISTIC,
                                                 "train.steps": STEPS})]
  killed = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.monotonic() + TIMEOUT
  while (not _has_checkpoint(killed_dir) and killed.poll() is None
         and time.monotonic() < deadline):
    time.sleep(0.02)
  killed.send_signal(signal.SIGKILL)
  assert killed.wait() == -signal.SIGKILL, "the run ended before it could be killed"
  resumed = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                           check=False)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert "restored" in resumed.stderr  # it did not start over
  _finish(stopped_and_resumed)

  uninterrupted = training_world.checkpoint_values(os.path.join(world, "a"))
  assert uninterrupted["step/.ATTRIBUTES/VARIABLE_VALUE"] == STEPS
  _assert_same_values(uninterrupted, training_world.checkpoint_values(os.path.join(world, "b")))
  _assert_same_values(uninterrupted, training_world.checkpoint_values(killed_dir))


def test_two_mirrored_replicas_update_the_weights_as_one_device(world):
  _finish(_scenario("replicas", world))
  one = training_world.checkpoint_values(os.path.join(world, "one"))
  two = training_world.checkpoint_values(os.path.join(world, "two"))
  assert sorted(one) == sorted(two)
  for name, value in one.items():  # float sums in another order: close, maybe not bit-equal
    np.testing.assert_allclose(two[name], value, rtol=1e-4, atol=1e-5, err_msg=name)
  with open(os.path.join(world, "replicas.json"), encoding="utf-8") as f:
    report = json.load(f)
  assert report["replicas"] == [1, 2]
  assert "cannot be half 2D and half 3D" in report["odd_error"]
  assert "jit_compile runs on one replica only" in report["xla_error"]


def _free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(("127.0.0.1", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def test_two_workers_keep_identical_weights_and_resume_from_the_chiefs_checkpoint(world):
  cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
  workers = [_scenario("multi_worker", world, str(index), env={
      **os.environ, "TF_CONFIG": json.dumps({"cluster": cluster,
                                             "task": {"type": "worker", "index": index}})})
             for index in range(2)]
  for worker in workers:
    _finish(worker)
  for steps, trained in ((2, [1, 2]), (4, [3, 4])):  # the second run resumed at step 2
    chief, other = (np.load(os.path.join(world, f"worker{i}_step{steps}.npz")) for i in (0, 1))
    assert chief["steps"].tolist() == other["steps"].tolist() == trained
    _assert_same_values(dict(chief), dict(other))
  checkpoints = os.path.join(world, "mwms", "checkpoints")
  assert os.path.exists(os.path.join(checkpoints, "ckpt-4.index"))
  assert sorted(n for n in os.listdir(checkpoints) if n.startswith("input-")) == [
      "input-0-of-2", "input-1-of-2"]
  assert not any(n.startswith("scratch") for n in os.listdir(checkpoints))
