"""Checks of data that comes from files: one place for the error they raise and its wording."""


class BadInput(ValueError):
  """A file or record that cannot be used. The message names the file, the field and what was
  expected. Converters' --skip_bad counts these, and only these, as bad input: any other
  exception is a bug and stops the run."""
