"""Shared test set-up: quiet TensorFlow, and the real files of ../shared/data where present."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # pylint: disable=wrong-import-position

SHARED_DATA = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))


@pytest.fixture
def shared_data():
  """Path of ../shared/data; skips the test, saying why, where it is absent."""
  if not os.path.isdir(SHARED_DATA):
    pytest.skip(f"real data files not found at {SHARED_DATA} (../shared/data beside the repo)")
  return SHARED_DATA
