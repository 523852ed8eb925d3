"""Training gandir's own StyleGAN2 on procedural data with known factors."""
