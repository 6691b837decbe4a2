"""How every hmr-* tool reports: absl log lines "<tool>: <what was done>", and an error that
ends a run as one line "<tool>: <error>" on stderr with exit status 1, no traceback.

Library functions return what they did (e.g. shards.SplitStats); only the tools log it.
"""

import collections
import sys

from absl import logging


def done(tool, text):
  """Logs the line that says what a tool did, e.g. done("hmr-synth", "kept 5 examples …")."""
  logging.info("%s: %s", tool, text)


def fail(tool, error, hint=None):
  """Ends the run: "<tool>: <error>[; <hint>]" on stderr, exit status 1."""
  sys.exit(f"{tool}: {error}" + (f"; {hint}" if hint else ""))


def splits(output_dir, stats):
  """'kept N examples in DIR (split n, …), skipped K (reason: k; …)' for {split: SplitStats}.

  Covers every split given, whether this run or an earlier one converted it.
  """
  skipped = collections.Counter()
  for split_stats in stats.values():
    skipped.update(split_stats.skipped)
  kept = ", ".join(f"{split} {s.examples}" for split, s in stats.items())
  reasons = "; ".join(f"{reason}: {n}" for reason, n in sorted(skipped.items()))
  return (f"kept {sum(s.examples for s in stats.values())} examples in {output_dir} ({kept}), "
          f"skipped {sum(skipped.values())}" + (f" ({reasons})" if reasons else ""))


def bad_input(tool, stats):
  """Logs what was wrong with the first bad items --skip_bad skipped, per split."""
  for split, split_stats in stats.items():
    for message in split_stats.bad_input:
      logging.warning("%s: skipped in '%s' (--skip_bad): %s", tool, split, message)
