"""Direction discovery: parametrizations, initializations, TopDis and baseline searches.

``find_directions(generator, method='topdis', k=10, space='w', ...)`` is the entry point.
"""

from gan_directions.discovery.methods import METHODS, Method, get_method, register_method
from gan_directions.discovery.search import FindResult, SearchSettings, find_directions

__all__ = ["METHODS", "FindResult", "Method", "SearchSettings", "find_directions", "get_method",
           "register_method"]
