"""The one exception type for mistakes a user can fix (config, data, workdir).

`main.py` prints its message as a single line and exits with status 2; anything else is a bug
and keeps its traceback.
"""


class UserError(Exception):
  """A problem the user can fix; the message says what to do."""
