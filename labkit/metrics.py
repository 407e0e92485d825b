"""Information and diversity measures: the one entropy of the kit, KL/JS divergences, distances.

Document 002 §3.2 measures a data set's *diversity* by the Euclidean distance between samples and the
entropy of its features; §3.3 measures its *representativeness* by the KL divergence between the data
set's distribution and the "real world's". This module holds those measures, made well defined:

- :func:`entropy`, :func:`kl_divergence`, :func:`js_divergence` on probability vectors (0·log 0 = 0);
- :func:`mean_pairwise_distance`, exact in bounded memory, or estimated on a subsample with a standard error;
- :func:`feature_entropy` with an explicit binning (the entropy of a continuous feature depends on it);
- :func:`representativeness`: class or k-means-cluster histograms of a subset against a held-out
  reference set, compared with explicit smoothing (the real-world distribution is never known);
- :func:`vendi_score`, a modern diversity measure beyond the document;
- :func:`subset_metrics`, all of the above for one subset, as one table row;
- :func:`compare_subsets`, :func:`noticed`, :func:`standing`: subsets compared measure by measure over
  repeats with the kit's one verdict rule (:func:`labkit.lesson.compare`), in each measure's own words.

All functions are vectorised and validate their input: bad input raises ``ValueError``/``TypeError``
naming the parameter.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from labkit._validation import (
    RandomState,
    as_generator,
    as_seed,
    check_bool,
    check_choice,
    check_class_labels,
    check_features,
    check_int,
    check_labels,
    check_number,
    check_probabilities,
    check_probability_rows,
    check_samples,
)

_TINY = np.finfo(np.float64).tiny

# --- entropies and divergences --------------------------------------------------------------------------


def _log(x: np.ndarray, base: float | None) -> np.ndarray:
    out = np.log(x)
    return out if base is None else out / np.log(base)


def _log_base(base) -> float | None:
    """The logarithm's base: ``None`` (nats) or a positive number other than 1."""
    if base is None:
        return None
    value = check_number(base, "base", low=0.0, low_open=True)
    if value == 1.0:
        raise ValueError(f"base must be a positive number other than 1 (or None for nats), got {base!r}")
    return value


def _scalar_or_array(x: np.ndarray):
    return float(x) if np.ndim(x) == 0 else x


def entropy(p, *, axis: int = -1, base: float | None = None) -> np.ndarray:
    """Shannon entropy of probability vectors along ``axis`` (nats by default); 0·log 0 counts as 0.

    Document 001 §4.1 computes ``-np.sum(p * np.log(p))`` row by row, which is NaN for any zero
    probability; this is the vectorised, zero-safe version. Rows of a 2-D array (the usual case) are
    checked and summed a cache-sized block at a time: one pass over memory instead of several.
    """
    _log_base(base)
    axis = check_int(axis, "axis")
    arr = np.asarray(p)
    if arr.ndim == 2 and axis in (-1, 1):
        return _row_entropy(check_probability_rows(arr, "p"), base)
    if arr.ndim and not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"axis={axis} is out of range for p with {arr.ndim} dimension(s)")
    p = check_probabilities(arr, "p", axis=axis)
    plogp = np.zeros_like(p)
    np.multiply(p, _log(np.where(p > 0, p, 1.0), base), out=plogp, where=p > 0)
    return 0.0 - plogp.sum(axis=axis)  # 0.0 - x turns -0.0 into 0.0


def _row_entropy(p: np.ndarray, base: float | None) -> np.ndarray:
    """Entropy of each row of a checked 2-D probability array, in blocks that stay in cache.

    ``p · log(max(p, tiny))`` is exactly the zero-safe ``p · log p`` (0 where p = 0) in one pass without
    masks; the row sums are numpy's, so the values are bit for bit those of the unblocked formula.
    """
    n, k = p.shape
    out = np.empty(n)
    step = max(1, 2**16 // k)  # about 512 KB of float64 per block
    buf = np.empty((min(step, n), k))
    scale = None if base is None else np.log(base)
    for start in range(0, n, step):
        block = p[start:start + step]
        b = buf[: len(block)]
        np.maximum(block, _TINY, out=b)
        np.log(b, out=b)
        if scale is not None:
            b /= scale
        b *= block
        np.sum(b, axis=1, out=out[start:start + step])
    return 0.0 - out  # 0.0 - x turns -0.0 into 0.0


def _check_pair(p, q) -> tuple[np.ndarray, np.ndarray]:
    p = check_probabilities(p, "p")
    q = check_probabilities(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got p {p.shape} and q {q.shape}")
    return p, q


def _eps(eps) -> float:
    """The additive smoothing: a finite number >= 0."""
    return check_number(eps, "eps", low=0.0)


def smooth(p, eps: float) -> np.ndarray:
    """Additive smoothing of probability vectors (last axis): add ``eps`` to every entry, renormalise.

    ``(p + eps) / (1 + K·eps)`` for K categories: every category gets at least ``eps / (1 + K·eps)``,
    so no probability is zero. ``eps = 0`` returns ``p`` unchanged.
    """
    p = check_probabilities(p, "p")
    eps = _eps(eps)
    return (p + eps) / (1.0 + p.shape[-1] * eps)


def kl_divergence(p, q, *, eps: float = 0.0, base: float | None = None):
    """KL(p‖q) = Σ p·log(p/q) along the last axis (nats by default); a float for 1-D input.

    With ``eps = 0`` the result is ``inf`` wherever some ``q_i = 0 < p_i`` (p puts mass where q has none)
    and finite otherwise. ``eps > 0`` is explicit additive smoothing of *both* distributions before the
    divergence (see :func:`smooth`): the result is then always finite, but it depends on ``eps``.
    KL is not symmetric: in general KL(p‖q) ≠ KL(q‖p).
    """
    from scipy.special import rel_entr

    _log_base(base)
    p, q = _check_pair(p, q)
    eps = _eps(eps)
    if eps > 0:
        p, q = smooth(p, eps), smooth(q, eps)
    with np.errstate(divide="ignore"):
        out = rel_entr(p, q).sum(axis=-1)  # rel_entr: p log(p/q); 0 where p = 0; inf where q = 0 < p
    if base is not None:
        out = out / np.log(base)
    return _scalar_or_array(out)


def js_divergence(p, q, *, base: float | None = None):
    """Jensen–Shannon divergence ½KL(p‖m) + ½KL(q‖m), m = (p + q)/2, along the last axis.

    Symmetric, always finite, 0 only for p = q, and at most log 2 (1 in base 2): a bounded alternative
    to KL when one histogram may have empty bins.
    """
    from scipy.special import kl_div

    _log_base(base)
    p, q = _check_pair(p, q)
    m = 0.5 * (p + q)
    # kl_div(x, y) = x log(x/y) - x + y is >= 0 term by term, so rounding cannot make the sum negative.
    out = 0.5 * (kl_div(p, m).sum(axis=-1) + kl_div(q, m).sum(axis=-1))
    if base is not None:
        out = out / np.log(base)
    return _scalar_or_array(out)


# --- diversity: pairwise distances ----------------------------------------------------------------------


def _pairwise_sums(X: np.ndarray, block_size: int) -> tuple[float, float, np.ndarray]:
    """Sum and sum of squares of the Euclidean distances over pairs i < j, and each row's distance sum.

    Works block by block (at most ``block_size``² distances in memory at a time) on the upper triangle,
    from ``|a - b|² = |a|² + |b|² - 2 a·b`` on centred data (centring keeps the norms small, which keeps
    the cancellation error small). Tiny negative squared distances from rounding are set to 0.
    """
    n = len(X)
    norms = np.einsum("ij,ij->i", X, X)
    total = 0.0
    total_sq = 0.0
    row_sums = np.zeros(n)
    for start_i in range(0, n, block_size):
        stop_i = min(start_i + block_size, n)
        Xi = X[start_i:stop_i]
        for start_j in range(start_i, n, block_size):
            stop_j = min(start_j + block_size, n)
            d2 = Xi @ X[start_j:stop_j].T
            d2 *= -2.0
            d2 += norms[start_i:stop_i, None]
            d2 += norms[None, start_j:stop_j]
            np.maximum(d2, 0.0, out=d2)
            if start_i == start_j:
                np.fill_diagonal(d2, 0.0)
                total_sq += 0.5 * float(d2.sum())
                d = np.sqrt(d2, out=d2)
                total += 0.5 * float(d.sum())
                row_sums[start_i:stop_i] += d.sum(axis=1)
            else:
                total_sq += float(d2.sum())
                d = np.sqrt(d2, out=d2)
                total += float(d.sum())
                row_sums[start_i:stop_i] += d.sum(axis=1)
                row_sums[start_j:stop_j] += d.sum(axis=0)
    return total, total_sq, row_sums


def mean_pairwise_distance(X, *, max_samples: int | None = None, random_state: RandomState = None,
                           return_se: bool = False, block_size: int = 2048):
    """Mean Euclidean distance over all pairs of distinct rows of ``X`` (= ``scipy.spatial.distance.pdist(X).mean()``).

    Exact by default, computed block by block so memory stays bounded (about ``3·block_size²`` floats
    plus one centred float64 copy of ``X``) instead of the n(n−1)/2 distances ``pdist`` keeps:
    60 000 × 784 needs ~0.5 GB here, where ``pdist`` would need 14 GB.

    With ``max_samples = m < n`` it is estimated on a random subsample of ``m`` rows (drawn without
    replacement with ``random_state``). ``return_se=True`` returns ``(mean, standard_error)``: the
    standard error of a U-statistic, ``sqrt((4(m−2)ζ₁ + 2ζ₂) / (m(m−1)))`` (Hoeffding), with ζ₁ the
    variance of each row's mean distance and ζ₂ the variance of a single distance, both estimated from the
    subsample; it ignores the finite-population correction, so it errs on the large side. The exact mean
    has standard error 0.
    """
    X = np.asarray(X)
    block_size = check_int(block_size, "block_size", low=1)
    check_bool(return_se, "return_se")
    if max_samples is not None:
        max_samples = check_int(max_samples, "max_samples", low=2)
    rng = as_generator(random_state)
    if max_samples is not None and X.ndim == 2 and np.issubdtype(X.dtype, np.number) \
            and max_samples < len(X):
        if not np.isfinite(X).all():
            check_features(X)  # raises, naming the first bad entry
        # convert only the subsample (no float64 copy of all of X)
        arr = check_features(X[np.sort(rng.choice(len(X), size=max_samples, replace=False))])
    else:
        arr = check_features(X)
    n, m = len(X), len(arr)  # population and (sub)sample size
    if m < 2:
        raise ValueError(f"X needs at least 2 rows to have a pair, got {m}")
    mean = arr.mean(axis=0)
    if np.may_share_memory(arr, X):
        arr = arr - mean  # a centred copy; the caller's X is left alone
    else:
        np.subtract(arr, mean, out=arr)  # arr is already our own copy
    total, total_sq, row_sums = _pairwise_sums(arr, block_size)
    n_pairs = m * (m - 1) / 2
    mpd = total / n_pairs
    if not return_se:
        return mpd
    if m == n:
        return mpd, 0.0
    zeta2 = max(total_sq / n_pairs - mpd**2, 0.0)
    zeta1 = float(np.var(row_sums / (m - 1), ddof=1)) if m > 2 else zeta2
    se = float(np.sqrt((4 * (m - 2) * zeta1 + 2 * zeta2) / (m * (m - 1))))
    return mpd, se


# --- diversity: feature entropy -------------------------------------------------------------------------


def feature_bin_edges(X, *, bins: int = 10) -> np.ndarray:
    """Per-feature equal-width bin edges over the range of ``X``, shape ``(n_features, bins + 1)``.

    Compute them once on the full set and pass them to :func:`feature_entropy` for every subset, so all
    subsets are binned on the same grid.
    """
    X = check_samples(X)
    bins = check_int(bins, "bins", low=1)
    lo, hi = X.min(axis=0), X.max(axis=0)
    hi = np.where(hi > lo, hi, lo + 1.0)  # a constant feature still gets increasing edges
    return np.linspace(lo, hi, bins + 1, axis=-1)  # first and last edges exactly min and max


def _bin_counts(X: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per (feature, bin) for per-feature increasing edges; the last bin is closed on the right."""
    n, d = X.shape
    k = edges.shape[1] - 1
    idx = np.empty((n, d), dtype=np.intp)
    for j in range(d):  # searchsorted per feature: O(n log k), memory O(n)
        idx[:, j] = np.searchsorted(edges[j], X[:, j], side="right") - 1
    idx[idx == k] = k - 1  # x equal to the last edge belongs to the last bin, as in np.histogram
    idx += np.arange(d) * k  # one flat bin number per (feature, bin)
    return np.bincount(idx.ravel(), minlength=d * k).reshape(d, k).astype(np.float64)


def feature_entropy(X, *, bins=10, base: float | None = None) -> np.ndarray:
    """Entropy of each feature's histogram: one value per column of ``X`` (nats by default).

    A continuous feature has no entropy until it is discretised, and the number depends on how (ERRATA 002
    §3.2), so the binning is explicit:

    - ``bins`` an int: that many equal-width bins over each feature's own range in ``X`` (as
      ``np.histogram(X[:, j], bins)``); a constant feature has entropy 0;
    - ``bins`` an array of edges, shape ``(k + 1,)`` (the same edges for every feature) or
      ``(n_features, k + 1)`` (e.g. from :func:`feature_bin_edges` on a reference set): shared edges make
      subsets comparable. Values outside the edges raise ``ValueError`` (they are not dropped).

    The maximum is ``log k`` for ``k`` bins. The plug-in estimate is biased low for small samples.
    """
    _log_base(base)
    X = check_samples(X)
    n, d = X.shape
    if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
        edges = feature_bin_edges(X, bins=int(bins))
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim == 1:
            edges = np.broadcast_to(edges, (d, len(edges)))
        if edges.ndim != 2 or edges.shape[0] != d or edges.shape[1] < 2:
            raise ValueError(
                f"bins must be an int, 1-D edges or edges of shape (n_features={d}, k + 1), "
                f"got shape {np.shape(bins)}"
            )
        if not np.isfinite(edges).all() or (np.diff(edges, axis=1) <= 0).any():
            raise ValueError("bins edges must be finite and strictly increasing along each row")
        outside = (X < edges[:, 0]) | (X > edges[:, -1])
        if outside.any():
            i, j = np.argwhere(outside)[0]
            raise ValueError(
                f"X[{i}, {j}] = {float(X[i, j])!r} lies outside the bins edges [{float(edges[j, 0])!r}, "
                f"{float(edges[j, -1])!r}] "
                "of its feature; compute the edges on a set that contains these values"
            )
    counts = _bin_counts(X, edges)
    return entropy(counts / n, base=base)


def value_entropy(X, *, base: float | None = None) -> np.ndarray:
    """Document 002 §3.2 read literally: each feature's entropy over its *distinct values*, per column.

    Kept to show why binning is needed: for a continuous feature every value is distinct, so this is
    ``log n`` for every feature and measures only the sample size.
    """
    _log_base(base)
    X = check_samples(X)
    out = np.empty(X.shape[1])
    for j in range(X.shape[1]):
        _, counts = np.unique(X[:, j], return_counts=True)
        out[j] = entropy(counts / counts.sum(), base=base)
    return out


# --- representativeness: histograms against a reference set ---------------------------------------------


def category_histogram(labels, categories) -> np.ndarray:
    """Share of ``labels`` in each of ``categories`` (in that order); every label must be a category."""
    labels = check_labels(labels, name="labels")
    categories = np.asarray(categories)
    if categories.ndim != 1 or len(categories) == 0 or len(np.unique(categories)) != len(categories):
        raise ValueError(f"categories must be a non-empty 1-D array of distinct values, got {categories!r}")
    if len(labels) == 0:
        raise ValueError("labels is empty: a histogram of nothing has no shares")
    order = np.argsort(categories, kind="stable")
    pos = np.searchsorted(categories[order], labels)
    pos = np.minimum(pos, len(categories) - 1)
    found = categories[order][pos] == labels
    if not found.all():
        bad = labels[~found][0]
        bad = bad.item() if isinstance(bad, np.generic) else bad
        raise ValueError(f"labels contains {bad!r}, which is not one of categories {categories.tolist()}")
    counts = np.bincount(order[pos], minlength=len(categories)).astype(np.float64)
    return counts / counts.sum()


def kmeans_codes(X, reference, *, n_clusters: int = 10, n_init: int = 3, random_state: RandomState = None):
    """Cluster ``reference`` with k-means, then assign both sets: ``(codes_X, codes_reference, model)``.

    Cluster codes let :func:`representativeness` compare a subset with a reference set without labels and
    without a density estimate. Fit once on the reference set and reuse the model for every subset.
    """
    from sklearn.cluster import KMeans

    reference = check_samples(reference, "reference")
    X = check_samples(X)
    if X.shape[1] != reference.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but reference has {reference.shape[1]}")
    n_clusters = check_int(n_clusters, "n_clusters", low=1)
    if n_clusters > len(reference):
        raise ValueError(f"n_clusters={n_clusters} exceeds the {len(reference)} rows of reference")
    n_init = check_int(n_init, "n_init", low=1)
    model = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=as_seed(random_state)).fit(reference)
    return model.predict(X), model.labels_.copy(), model


@dataclass(frozen=True)
class Representativeness:
    """How a subset's histogram ``p`` (over ``categories``) compares with a reference set's ``q``."""

    categories: np.ndarray
    p: np.ndarray  # subset shares (unsmoothed)
    q: np.ndarray  # reference shares (unsmoothed)
    eps: float
    kl_subset_reference: float  # KL(p‖q), smoothed with eps
    kl_reference_subset: float  # KL(q‖p), smoothed with eps
    js: float  # JS(p, q), unsmoothed (needs no smoothing)

    def scores(self) -> dict[str, float]:
        """The three numbers, for a table row."""
        return {"kl_subset_reference": self.kl_subset_reference,
                "kl_reference_subset": self.kl_reference_subset, "js": self.js}


def representativeness(subset, reference, *, eps: float, by: str = "labels", categories=None,
                       n_clusters: int = 10, random_state: RandomState = None,
                       base: float | None = None) -> Representativeness:
    """Compare the histogram of a subset with a reference set's: KL both ways (smoothed) and JS.

    The "real-world distribution" of document 002 §3.3 is unknown in practice, so a held-out reference set
    stands in for it, and samples have no density, so both sets are reduced to histograms over discrete
    categories (ERRATA 002):

    - ``by="labels"``: ``subset`` and ``reference`` are 1-D labels (classes, or cluster codes from
      :func:`kmeans_codes`); ``categories`` defaults to the union of both;
    - ``by="kmeans"``: they are 2-D features; k-means with ``n_clusters`` is fitted on ``reference``.

    ``eps`` (required, so the choice is visible) is the additive smoothing of :func:`kl_divergence`; with
    ``eps=0`` a category the subset lacks makes KL(reference‖subset) infinite.
    """
    eps = _eps(eps)
    _log_base(base)
    check_choice(by, "by", ("labels", "kmeans"))
    check_int(n_clusters, "n_clusters", low=1)  # checked even for by="labels": nothing is ignored silently
    as_generator(random_state)
    if by == "kmeans":
        subset, reference, _ = kmeans_codes(subset, reference, n_clusters=n_clusters,
                                            random_state=random_state)
    subset = check_class_labels(subset, "subset", min_classes=1)
    reference = check_class_labels(reference, "reference", min_classes=1)
    if categories is None:
        categories = np.union1d(subset, reference)
    p = category_histogram(subset, categories)
    q = category_histogram(reference, categories)
    return Representativeness(
        categories=np.asarray(categories), p=p, q=q, eps=eps,
        kl_subset_reference=kl_divergence(p, q, eps=eps, base=base),
        kl_reference_subset=kl_divergence(q, p, eps=eps, base=base),
        js=js_divergence(p, q, base=base),
    )


# --- a modern diversity measure -------------------------------------------------------------------------


def rbf_gamma(X) -> float:
    """The median heuristic for an RBF kernel: 1 / median squared distance between rows of ``X``."""
    from scipy.spatial.distance import pdist

    X = check_samples(X, min_rows=2)
    med = float(np.median(pdist(X, "sqeuclidean")))
    if med <= 0:
        raise ValueError("X has (mostly) identical rows: the median squared distance is 0")
    return 1.0 / med


def vendi_score(X, *, gamma: float | None = None, kernel: str = "rbf") -> float:
    """The Vendi score (Friedman & Dieng, 2023): the effective number of distinct samples in ``X``.

    It is ``exp`` of the entropy of the eigenvalues of ``K/n``, where ``K`` is a similarity matrix with
    ``K_ii = 1``: n for n mutually dissimilar samples, 1 for n copies of one sample, and (for a fixed
    kernel) duplicating every sample leaves it unchanged, where the mean pairwise distance would fall. ``kernel="rbf"``: ``exp(−γ|a − b|²)`` with
    ``gamma`` (default: :func:`rbf_gamma` of ``X``; pass one fixed value when comparing subsets);
    ``kernel="cosine"``: cosine similarity of the rows. Memory and time grow as n².
    """
    check_choice(kernel, "kernel", ("rbf", "cosine"))
    X = check_samples(X)
    n = len(X)
    if gamma is not None:
        gamma = check_number(gamma, "gamma", low=0.0, low_open=True)
    if kernel == "rbf":
        from scipy.spatial.distance import cdist

        if gamma is None:
            gamma = rbf_gamma(X) if n > 1 else 1.0
        K = np.exp(-gamma * cdist(X, X, "sqeuclidean"))
    elif kernel == "cosine":
        norms = np.linalg.norm(X, axis=1)
        if (norms == 0).any():
            raise ValueError(f"X has an all-zero row ({int(np.argmin(norms))}): its cosine is undefined")
        if gamma is not None:
            raise ValueError(f"gamma is only used with kernel='rbf', got gamma={gamma!r}")
        Xn = X / norms[:, None]
        K = Xn @ Xn.T
    if n <= 2000:
        # small eigenproblems run faster on one thread, and multi-threaded LAPACK on busy cores can be 10x slower
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            lam = np.linalg.eigvalsh(K / n)
    else:
        lam = np.linalg.eigvalsh(K / n)
    # K is positive semi-definite: eigenvalues below 0 are rounding noise of order 1e-15.
    if lam.min() < -1e-8:
        raise ValueError(f"the kernel matrix is not positive semi-definite (eigenvalue {lam.min():.3g})")
    lam = np.maximum(lam, 0.0)
    return float(np.exp(entropy(lam / lam.sum())))


# --- everything for one subset --------------------------------------------------------------------------


def subset_metrics(X, y, *, reference_y, bins, eps: float, clusters=None, reference_clusters=None,
                   gamma: float | None = None, categories=None, base: float | None = None) -> dict[str, float]:
    """Every diversity and representativeness measure of one subset, as a dict (one table row).

    ``X``, ``y``: the subset's features and classes; ``reference_y`` (and optionally ``clusters`` /
    ``reference_clusters``, k-means codes from :func:`kmeans_codes`): the held-out reference set;
    ``bins``: the binning of :func:`feature_entropy` (pass shared edges); ``eps``: the KL smoothing;
    ``gamma``: the RBF bandwidth of :func:`vendi_score` (pass one value for all subsets).
    """
    X = check_samples(X, min_rows=2)
    y = check_class_labels(y, n=len(X), min_classes=1)
    reference_y = check_class_labels(reference_y, "reference_y", min_classes=1)
    eps = _eps(eps)
    row = {
        "n": len(X),
        "mean_distance": mean_pairwise_distance(X),
        "feature_entropy": float(np.mean(feature_entropy(X, bins=bins, base=base))),
        "vendi": vendi_score(X, gamma=gamma),
    }
    rep = representativeness(y, reference_y, eps=eps, categories=categories, base=base)
    row.update({"kl_class": rep.kl_subset_reference, "kl_class_reverse": rep.kl_reference_subset,
                "js_class": rep.js})
    if (clusters is None) != (reference_clusters is None):
        raise ValueError("pass both clusters and reference_clusters, or neither")
    if clusters is not None:
        clusters = check_class_labels(clusters, "clusters", n=len(X), min_classes=1)
        rep = representativeness(clusters, reference_clusters, eps=eps,
                                 categories=np.unique(reference_clusters), base=base)
        row.update({"kl_cluster": rep.kl_subset_reference, "kl_cluster_reverse": rep.kl_reference_subset,
                    "js_cluster": rep.js})
    return row


# --- comparing subsets over repeats -----------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """A column of :func:`subset_metrics`: what it measures, and which way counts as "more of it"."""

    label: str  # how a sentence names it
    kind: str  # "diversity" | "representativeness"
    group: str  # "diversity" | "classes" | "clusters": the tables a notebook shows it in
    higher_is_better: bool  # diversity: higher = more diverse; divergences: lower = closer to the reference


MEASURES: dict[str, Measure] = {
    "mean_distance": Measure("mean pairwise distance", "diversity", "diversity", True),
    "feature_entropy": Measure("feature entropy", "diversity", "diversity", True),
    "vendi": Measure("Vendi score", "diversity", "diversity", True),
    "kl_class": Measure("class KL(subset‖reference)", "representativeness", "classes", False),
    "kl_class_reverse": Measure("class KL(reference‖subset)", "representativeness", "classes", False),
    "js_class": Measure("class JS divergence", "representativeness", "classes", False),
    "kl_cluster": Measure("cluster KL(subset‖reference)", "representativeness", "clusters", False),
    "kl_cluster_reverse": Measure("cluster KL(reference‖subset)", "representativeness", "clusters", False),
    "js_cluster": Measure("cluster JS divergence", "representativeness", "clusters", False),
}
NO_DIFFERENCE = "no detectable difference"


def measures_in(group: str) -> list[str]:
    """The columns of :data:`MEASURES` shown together: ``"diversity"``, ``"classes"`` or ``"clusters"``."""
    check_choice(group, "group", ("diversity", "classes", "clusters"))
    return [name for name, m in MEASURES.items() if m.group == group]


def _measure(name, param: str = "measure") -> Measure:
    if not isinstance(name, str) or name not in MEASURES:
        raise ValueError(f"{param} must be one of {list(MEASURES)}, got {name!r}")
    return MEASURES[name]


def _check_measures(measures, param: str = "measures") -> list[str]:
    """A non-empty list of :data:`MEASURES` names (a single string is refused: it would be read letter by letter)."""
    if isinstance(measures, str) or not hasattr(measures, "__iter__"):
        raise TypeError(f"{param} must be a list of measure names, got {measures!r}")
    measures = list(measures)
    if not measures:
        raise ValueError(f"{param} is empty: name at least one of {list(MEASURES)}")
    for m in measures:
        _measure(m, param)
    return measures


def _direction(v) -> str:
    """"higher" / "lower" when the verdict rule found a difference (its CI excludes 0), else no difference."""
    if v.word == NO_DIFFERENCE:
        return NO_DIFFERENCE
    return "higher" if v.diff > 0 else "lower"


def difference_sentence(v, *, label: str | None = None, digits: int = 3) -> str:
    """A :class:`labkit.lesson.Verdict` on a measure, in the measure's own words ("higher"/"lower").

    The decision is the verdict rule's (a paired difference whose 95 % CI excludes 0); only the wording
    differs from ``v.sentence``: "k-center's Vendi score is higher than random's: k-center − random = ...".
    ``n`` (and "indicative" below 5 pairs) is printed beside the interval, as everywhere in the kit.
    """
    from labkit.lesson import Verdict

    if not isinstance(v, Verdict):
        raise TypeError(f"v must be a labkit.lesson.Verdict, got {type(v).__name__}")
    digits = check_int(digits, "digits", low=0, high=12)
    what = label or v.metric
    direction = _direction(v)
    if direction == NO_DIFFERENCE:
        return v.sentence
    from labkit.stats import ci_text

    return (f"{v.a}'s {what} is {direction} than {v.b}'s: {v.a} − {v.b} = "
            f"{ci_text(v.diff, v.ci, v.n, digits, signed=True)}.")


def compare_subsets(results, pairs, *, measures=None, by: str = "subset", pair: str = "repeat"):
    """Paired verdicts of subset ``a`` against subset ``b`` on each measure, one row per ``(a, b, measure)``.

    ``results``: one row per subset × repeat with the columns of :func:`subset_metrics` (a tidy table);
    ``pairs``: ``(a, b)`` values of column ``by``; the rows are paired over ``pair`` (repeats drawn from the
    same candidates). Each row is decided by :func:`labkit.lesson.compare` — the kit's one verdict rule —
    with the measure's own direction (:data:`MEASURES`). Columns: ``a, b, measure, label, kind, diff, ci, n,
    verdict`` (better/worse: more diverse / closer to the reference), ``direction`` ("higher", "lower" or
    "no detectable difference"), ``indicative`` (fewer than 5 pairs) and ``sentence``.
    """
    import pandas as pd

    from labkit import lesson

    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be a pandas DataFrame, got {type(results).__name__}")
    measures = [m for m in MEASURES if m in results.columns] if measures is None else _check_measures(measures)
    if not measures:
        raise ValueError(f"results has none of the measures {list(MEASURES)} (columns: {list(results.columns)})")
    for m in measures:
        if m not in results.columns:
            raise ValueError(f"measure {m!r} is not a column of results (columns: {list(results.columns)})")
    pairs = list(pairs)
    if not pairs:
        raise ValueError("pairs is empty: give at least one (a, b) pair of subsets")
    rows = []
    for i, p in enumerate(pairs):
        if not isinstance(p, tuple | list) or len(p) != 2:
            raise ValueError(f"pairs[{i}] must be an (a, b) pair, got {p!r}")
        a, b = p
        for m in measures:
            spec = MEASURES[m]
            v = lesson.compare(results, a, b, by=by, pair=pair, value=m, metric=spec.label,
                               higher_is_better=spec.higher_is_better)
            rows.append({"a": a, "b": b, "measure": m, "label": spec.label, "kind": spec.kind, "diff": v.diff,
                         "ci": v.ci, "n": v.n, "verdict": v.word, "direction": _direction(v),
                         "indicative": v.indicative, "sentence": difference_sentence(v)})
    return pd.DataFrame(rows)


def direction_table(verdicts, *, measures=None):
    """:func:`compare_subsets` rows at a glance: one row per measure, a column ``good`` saying which way is
    "more diverse" or "closer" (to the reference), then one column per subset ``a`` (``"a vs b"`` when the
    rows compare against several ``b``), cells "higher" / "lower" / "–" (no detectable difference)."""
    import pandas as pd

    if not isinstance(verdicts, pd.DataFrame) or not {"a", "b", "measure", "direction"} <= set(verdicts.columns):
        raise TypeError("verdicts must be a DataFrame from compare_subsets")
    rows = verdicts if measures is None else verdicts[verdicts["measure"].isin(_check_measures(measures))]
    one_b = rows["b"].nunique() == 1
    names = [str(a) if one_b else f"{a} vs {b}" for a, b in zip(rows["a"], rows["b"], strict=True)]
    grid = rows.assign(column=names, cell=rows["direction"].replace({NO_DIFFERENCE: "–"})).pivot(
        index="measure", columns="column", values="cell")
    grid = grid.loc[[m for m in MEASURES if m in grid.index], list(dict.fromkeys(names))]
    grid.insert(0, "good", ["higher = more diverse" if MEASURES[m].higher_is_better else
                            "lower = closer" for m in grid.index])
    grid.columns.name = None
    return grid


def _rows_of(verdicts, a, b=None, measure=None):
    import pandas as pd

    if not isinstance(verdicts, pd.DataFrame) or "direction" not in verdicts.columns:
        raise TypeError("verdicts must be a DataFrame from compare_subsets")
    rows = verdicts[verdicts["a"] == a]
    if b is not None:
        rows = rows[rows["b"] == b]
    if measure is not None:
        rows = rows[rows["measure"] == measure]
    if rows.empty:
        what = ", ".join(f"{k}={v!r}" for k, v in (("a", a), ("b", b), ("measure", measure)) if v is not None)
        raise ValueError(f"verdicts holds no comparison with {what}")
    return rows


def _pairs_text(n_values) -> str:
    from labkit.stats import SMALL_N

    lo, hi = int(min(n_values)), int(max(n_values))
    n = f"n = {lo}" if lo == hi else f"n = {lo}–{hi}"
    return f"{n}, indicative: fewer than {SMALL_N} pairs" if lo < SMALL_N else n


def noticed(verdicts, a, b: str = "random", *, digits: int = 3) -> str:
    """Which measures tell subset ``a`` from ``b`` (with direction and paired difference) and which do not:
    one sentence from :func:`compare_subsets` rows, for :func:`labkit.lesson.claim`."""
    from labkit.stats import ci_text

    rows = _rows_of(verdicts, a, b)
    seen = rows[rows["direction"] != NO_DIFFERENCE]
    unseen = rows[rows["direction"] == NO_DIFFERENCE]
    head = f"{a} vs {b} ({_pairs_text(rows['n'])}): "
    if seen.empty:
        return head + f"no detectable difference on any of the {len(rows)} measures ({', '.join(rows['label'])})."
    told = "; ".join(f"{r.label} {r.direction} ({ci_text(r.diff, r.ci, int(r.n), digits, signed=True)})"
                     for r in seen.itertuples())
    text = head + f"told apart by {len(seen)} of {len(rows)} measures — {told}"
    if not unseen.empty:
        text += f"; no detectable difference on {', '.join(unseen['label'])}"
    return text + "."


def standing(verdicts, a, measure: str, *, digits: int = 3) -> str:
    """Where subset ``a`` stands on ``measure`` against every subset it was compared with: "the highest of
    the N subsets" only when it is detectably higher than each of them (likewise "lowest"), otherwise
    which ones it is higher than, lower than, and not detectably different from."""
    from labkit.stats import ci_text

    spec = _measure(measure)
    rows = _rows_of(verdicts, a, measure=measure)
    n_text = _pairs_text(rows["n"])
    dirs = set(rows["direction"])
    if dirs == {"higher"} or dirs == {"lower"}:
        word = "highest" if dirs == {"higher"} else "lowest"
        closest = rows.loc[rows["diff"].abs().idxmin()]
        return (f"{a} has the {word} {spec.label} of the {len(rows) + 1} subsets: detectably {dirs.pop()} than "
                f"each of the other {len(rows)} (closest: {closest['b']}, {a} − {closest['b']} = "
                f"{ci_text(closest['diff'], closest['ci'], int(closest['n']), digits, signed=True)}).")
    parts = []
    for direction in ("higher", "lower"):
        names = rows.loc[rows["direction"] == direction, "b"].tolist()
        if names:
            parts.append(f"{direction} than {', '.join(map(str, names))}")
    names = rows.loc[rows["direction"] == NO_DIFFERENCE, "b"].tolist()
    if names:
        parts.append(f"no detectable difference from {', '.join(map(str, names))}")
    return f"{a}'s {spec.label} ({n_text}): " + "; ".join(parts) + "."
