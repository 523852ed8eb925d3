"""Direction discovery: parametrizations, initializations, TopDis and baseline searches.

``find_directions(generator, method='topdis', k=10, space='w', ...)`` is the entry point.
"""

from gan_directions.discovery.search import (
    METHODS,
    FindResult,
    SearchSettings,
    find_directions,
)

__all__ = ["METHODS", "FindResult", "SearchSettings", "find_directions"]
