"""User-facing error types.

The CLI turns every ``GandirError`` into a one-line message and its ``exit_code``: 2 for a
value the command cannot take (as for click's usage errors), 1 for everything else.
"""


class GandirError(Exception):
    """An error the user can act on (bad input, missing file, refused download...)."""

    exit_code = 1


class InvalidInputError(GandirError, ValueError):
    """An argument or input array is malformed (NaN, wrong shape, out of range...): on the
    command line, a usage error."""

    exit_code = 2


class ModelLoadError(GandirError):
    """A model file or name could not be turned into a generator."""


class UnsafePickleError(ModelLoadError):
    """A pickle references a global outside the allow-list, or is otherwise hostile."""


class DownloadError(GandirError):
    """A download failed, was interrupted, or did not match its checksum."""
