"""The one exception type for mistakes a user can fix (config, data, workdir), and the checks
every config owner uses to raise it.

`main.py` prints its message as a single line and exits with status 2; anything else is a bug
and keeps its traceback.
"""

import sys


class UserError(Exception):
  """A problem the user can fix; the message says what to do."""


def require(condition, field, value, what):
  """Raises "config.<field>=<value> is invalid: <what>." unless `condition`."""
  if not condition:
    raise UserError(f"config.{field}={value!r} is invalid: {what}.")


def is_number(value):
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_int(value):
  return isinstance(value, int) and not isinstance(value, bool)


def positive_int(config, field):
  """config.<field> (dotted), required to be a positive integer."""
  value = config
  for part in field.split("."):
    value = value[part]
  require(is_int(value) and value > 0, field, value, "it must be a positive integer")
  return value


def fail(message):
  """Ends a command-line program on a user's mistake: one `error:` line, exit status 2."""
  print(f"error: {message}", file=sys.stderr)
  sys.exit(2)
