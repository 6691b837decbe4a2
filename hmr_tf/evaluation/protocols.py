"""Benchmark protocols: which examples of a split count, and how they are grouped.

  h36m_p1        Human3.6M protocol 1 (HMR's evaluate_h36m.py --protocol 1): subjects S9 and
                 S11, all four cameras, both trials; per action.
  h36m_p2        Human3.6M protocol 2: the frontal camera 60457274 (HMR's camera 3), trial 1.
  mpi_inf_3dhp   MPI-INF-3DHP test set: PCK@150 mm and AUC besides MPJPE; per sequence TS1–6.
  pw3d           3DPW: every example; per sequence.
  lsp            LSP: every example (2D PCK; LSP has no 3D ground truth).
  all            every example, no groups (the synthetic world and any other dataset).

The protocol follows from the "dataset" name in the split's info.json (DEFAULT_PROTOCOLS),
unless the caller names one. Groups come from the image ids the converters store.

Human3.6M ids are SPIN's and mmpose's image names, e.g. "images/S9_Directions_1.54138969_000001.jpg":
subject, take (the raw sequence name, a space written "_"), camera, frame. A take's action is
its name without the trailing take number, with S1's spellings (TakingPhoto, WalkingDog) for
the other subjects' Photo and WalkDog. HMR's preprocessing is not public; its trial index is
the take's rank among the subject's takes of that action in file-name order (a space sorts
before the "."), the one order that agrees with HMR skipping (S11, Directions, trial 1,
camera 0) for the corrupt video S11/Directions.54138969.mp4. As HMR, both protocols skip
that sequence, and per-action numbers are means of the per-sequence means.
"""

import collections
import dataclasses
import os
import re

import numpy as np

from hmr_tf.checks import BadInput

H36M_ACTIONS = (  # in the order of HMR's per-action table
    "Directions", "Discussion", "Eating", "Greeting", "Phoning", "TakingPhoto", "Posing",
    "Purchases", "Sitting", "SittingDown", "Smoking", "Waiting", "WalkingDog", "Walking",
    "WalkTogether")
H36M_CAMERAS = ("54138969", "55011271", "58860488", "60457274")  # HMR's cameras 0–3
H36M_TEST_SUBJECTS = ("S9", "S11")
H36M_FRONTAL_CAMERA = 3
H36M_CORRUPT = ("S11", "Directions", 1, 0)  # (subject, action, trial, camera): a broken video
_H36M_ALIASES = {"Photo": "TakingPhoto", "WalkDog": "WalkingDog"}
_H36M_ID = re.compile(r"^(S\d+)_(.+)\.(\d{8})_(\d+)\.\w+$")
_3DHP_ID = re.compile(r"(?:^|/)(TS\d+)/")
_3DPW_ID = re.compile(r"(?:^|/)([^/]+)/image_\d+\.\w+(?:#\d+)?$")


@dataclasses.dataclass(frozen=True)
class Selection:
  """The examples a protocol scores, and their groups.

  mask: [N] bool, the examples that count.
  groups: [N] str, each example's group, or None where the protocol has no groups.
  sequences: [N] str, each example's sequence within its group, or None. With sequences, a
    group's number is the mean of its sequences' means (HMR's per-action numbers); without,
    the mean over the group's examples.
  group_kind: what a group is ("action", "sequence"), or None.
  group_order: groups to list first, in this order; the others follow sorted.
  """

  mask: np.ndarray
  groups: np.ndarray = None
  sequences: np.ndarray = None
  group_kind: str = None
  group_order: tuple = ()


@dataclasses.dataclass(frozen=True)
class Protocol:
  name: str
  select: object  # list of image ids -> Selection
  pck3d: bool = False  # MPI-INF-3DHP's PCK and AUC too


@dataclasses.dataclass(frozen=True)
class H36mFrame:
  subject: str
  take: str  # raw sequence name, e.g. "Directions 1"
  camera: int  # index into H36M_CAMERAS
  frame: int

  @property
  def action(self):
    base = re.sub(r" \d+$", "", self.take)
    return _H36M_ALIASES.get(base, base)


def parse_h36m_id(image_id):
  """The H36mFrame of a Human3.6M image id; BadInput naming the id otherwise."""
  match = _H36M_ID.match(os.path.basename(image_id))
  camera = match and match.group(3)
  if not match or camera not in H36M_CAMERAS:
    raise BadInput(f"image_id '{image_id}' is not a Human3.6M frame: expected "
                   f"S<subject>_<take>.<camera>_<frame>.jpg with a camera of {H36M_CAMERAS}")
  frame = H36mFrame(match.group(1), match.group(2).replace("_", " "),
                    H36M_CAMERAS.index(camera), int(match.group(4)))
  if frame.action not in H36M_ACTIONS:
    raise BadInput(f"image_id '{image_id}': unknown Human3.6M action '{frame.action}' "
                   f"(expected one of {H36M_ACTIONS})")
  return frame


def h36m_trials(frames):
  """Each frame's trial index: its take's rank among its subject's takes of the action."""
  takes = collections.defaultdict(set)
  for f in frames:
    takes[f.subject, f.action].add(f.take)
  # The raw files are "<take>.<camera>.mp4": in their order, "Directions 1." < "Directions.".
  order = {key: sorted(names, key=lambda take: take + ".") for key, names in takes.items()}
  return [order[f.subject, f.action].index(f.take) for f in frames]


def _h36m(protocol):
  def select(image_ids):
    frames = [parse_h36m_id(i) for i in image_ids]
    trials = h36m_trials(frames)
    mask = np.array([
        f.subject in H36M_TEST_SUBJECTS
        and (f.subject, f.action, trial, f.camera) != H36M_CORRUPT
        and (protocol == 1 or (f.camera == H36M_FRONTAL_CAMERA and trial == 0))
        for f, trial in zip(frames, trials)], bool)
    return Selection(
        mask=mask, groups=np.array([f.action for f in frames], str),
        sequences=np.array([f"{f.subject} {f.take} {H36M_CAMERAS[f.camera]}" for f in frames],
                           str), group_kind="action", group_order=H36M_ACTIONS)
  return select


def _grouped_by(pattern, what):
  def select(image_ids):
    groups = []
    for image_id in image_ids:
      match = pattern.search(image_id)
      if not match:
        raise BadInput(f"image_id '{image_id}' names no {what} (expected it to match "
                       f"{pattern.pattern})")
      groups.append(match.group(1))
    return Selection(mask=np.ones(len(image_ids), bool), groups=np.array(groups, str),
                     group_kind="sequence")
  return select


def _everything(image_ids):
  return Selection(mask=np.ones(len(image_ids), bool))


PROTOCOLS = {p.name: p for p in (
    Protocol("h36m_p1", _h36m(1)),
    Protocol("h36m_p2", _h36m(2)),
    Protocol("mpi_inf_3dhp", _grouped_by(_3DHP_ID, "MPI-INF-3DHP test sequence (TS1…)"),
             pck3d=True),
    Protocol("pw3d", _grouped_by(_3DPW_ID, "3DPW sequence (<sequence>/image_<frame>.jpg)")),
    Protocol("lsp", _everything),
    Protocol("all", _everything),
)}
DEFAULT_PROTOCOLS = {"h36m": ("h36m_p1", "h36m_p2"), "mpi_inf_3dhp": ("mpi_inf_3dhp",),
                     "pw3d": ("pw3d",), "lsp": ("lsp",)}


def protocols_for(dataset, names=None):
  """The Protocols to run: `names` (a list or a comma-separated string) or the dataset's own.

  Raises ValueError naming the choices for an unknown name.
  """
  if isinstance(names, str):
    names = [n.strip() for n in names.split(",") if n.strip()]
  names = names or DEFAULT_PROTOCOLS.get(dataset, ("all",))
  unknown = [n for n in names if n not in PROTOCOLS]
  if unknown:
    raise ValueError(f"unknown protocol(s) {unknown}; expected some of {sorted(PROTOCOLS)}")
  return [PROTOCOLS[n] for n in names]
