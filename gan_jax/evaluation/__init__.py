"""Evaluation of generators: feature extractors, sample-quality and mode-collapse metrics.

    from gan_jax.evaluation import Evaluator
    evaluator = Evaluator("fashion_mnist", real_test_images, num_samples=10_000)
    result = evaluator.evaluate(generate_fn)   # generate_fn(rng, batch_size) -> images
    result.scalars, result.images, result.record

Everything here imports only jax, flax and numpy (matplotlib when a plot is drawn).
"""

from gan_jax.evaluation.evaluator import EvaluationResult, Evaluator

__all__ = ["EvaluationResult", "Evaluator"]
