"""Fréchet distance between Gaussians fitted to two feature sets (FID on Inception, FD otherwise).

References:
  Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
  Equilibrium" (FID). Dowson & Landau 1982, "The Fréchet distance between multivariate normal
  distributions".

    FD = |mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2))

The statistics are computed on device (float32 at full matmul precision: GPUs and TPUs would
otherwise multiply float32 in TF32/bfloat16). The trace term is computed on the host in float64,
by symmetric eigendecompositions: (S1 S2)^(1/2) has the same eigenvalues as the symmetric PSD
matrix S1^(1/2) S2 S1^(1/2), so Tr((S1 S2)^(1/2)) = sum sqrt(eig(S1^(1/2) S2 S1^(1/2))).
`eigh` is backward stable, needs no regularising offset, and never returns the spurious
imaginary parts a general `sqrtm` of the non-symmetric S1 S2 produces on rank-deficient
covariances (features from ReLUs often are). float64 because FD is a small difference of large
traces: float32 would lose the digits that separate two good models.
"""

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import UserError

HIGHEST = jax.lax.Precision.HIGHEST


@jax.jit
def _mean_and_covariance(features):
  features = features.astype(jnp.float32)
  mean = jnp.mean(features, axis=0)
  centred = features - mean
  covariance = jnp.matmul(centred.T, centred, precision=HIGHEST) / (features.shape[0] - 1)
  return mean, covariance


def gaussian_statistics(features):
  """(mean [D], covariance [D, D]) of features [N, D] as float64 numpy (unbiased covariance)."""
  if features.ndim != 2 or features.shape[0] < 2:
    raise UserError(f"The Fréchet distance needs at least 2 feature vectors [N, D]; got shape "
                    f"{tuple(features.shape)}.")
  mean, covariance = jax.device_get(_mean_and_covariance(jnp.asarray(features)))
  return np.asarray(mean, np.float64), np.asarray(covariance, np.float64)


def _psd_sqrt(matrix):
  eigenvalues, eigenvectors = np.linalg.eigh(matrix)
  return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def trace_sqrt_product(covariance1, covariance2):
  """Tr((S1 S2)^(1/2)) for symmetric PSD S1, S2, in float64."""
  root1 = _psd_sqrt(np.asarray(covariance1, np.float64))
  product = root1 @ np.asarray(covariance2, np.float64) @ root1
  eigenvalues = np.linalg.eigvalsh((product + product.T) / 2.0)
  return float(np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))


def frechet_distance(mean1, covariance1, mean2, covariance2):
  """FD between N(mean1, covariance1) and N(mean2, covariance2), a float."""
  mean1, mean2 = np.asarray(mean1, np.float64), np.asarray(mean2, np.float64)
  return float(np.sum((mean1 - mean2) ** 2) + np.trace(covariance1) + np.trace(covariance2)
               - 2.0 * trace_sqrt_product(covariance1, covariance2))


def frechet_distance_from_features(features1, features2):
  """FD between Gaussians fitted to features [N1, D] and [N2, D]."""
  return frechet_distance(*gaussian_statistics(features1), *gaussian_statistics(features2))
