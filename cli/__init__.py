"""The ``gandir`` command-line app (installed as ``gan_directions.cli``)."""
