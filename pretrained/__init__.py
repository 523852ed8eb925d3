"""Model catalogue (``models.toml``) and small shipped weights.

Installed as ``gan_directions.pretrained``.
"""
