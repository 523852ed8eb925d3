"""The run folder: its file names (``layout``) and its versioned record (``record``)."""

from gan_directions.runs.record import (
    RUN_RECORD_VERSION,
    new_record,
    read_record,
    update_record,
    write_record,
)

__all__ = [
    "RUN_RECORD_VERSION",
    "new_record",
    "read_record",
    "update_record",
    "write_record",
]
