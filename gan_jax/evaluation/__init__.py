"""Evaluation of generators: feature extractors, sample-quality and mode-collapse metrics."""
