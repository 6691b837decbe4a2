"""The machine a benchmark ran on, for the heading of its table."""

import os
import platform


def describe(*libraries):
  """'CPU model, N cores, lib x.y, …' for the given imported modules."""
  cpu = platform.processor() or platform.machine()
  if os.path.exists("/proc/cpuinfo"):
    with open("/proc/cpuinfo", encoding="utf-8") as f:
      cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                 cpu)
  versions = [f"{module.__name__} {module.__version__}" for module in libraries]
  return ", ".join([cpu, f"{os.cpu_count()} cores", *versions])
