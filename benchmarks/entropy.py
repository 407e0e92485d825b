"""Vectorised entropy and top-k selection vs document 001 §4.1's row-by-row loop (10⁶ × 10 by default).

Prints ``name: value`` lines; the speed ratios are measured in this run. Target: entropy ≥ 40× faster.
The document's code is :mod:`labkit.errata`'s reproduction; the loop runs once, labkit's code best of ``--repeats``.
Also counts the NaNs each version produces once some probabilities are exactly zero.
Usage: ``python benchmarks/entropy.py [--rows N] [--classes C] [--k K] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from labkit import errata, metrics, select


def best_of(fn, repeats: int) -> float:
    """The fastest of ``repeats`` runs, in seconds (the least disturbed by other processes)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of the vectorised code (best taken)")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(args.classes), size=args.rows)  # strictly positive: no NaN either way
    data = np.arange(args.rows)

    # the document's loop is slow: run it once
    start = time.perf_counter()
    doc_entropy = errata.document_entropy_loop(probs)
    doc_loop = time.perf_counter() - start
    start = time.perf_counter()
    doc_selected, _ = errata.document_sample_by_entropy(data, probs, args.k)
    doc_sample = time.perf_counter() - start

    ours = best_of(lambda: metrics.entropy(probs), args.repeats)
    ours_top = best_of(lambda: select.top_entropy(probs, args.k), args.repeats)

    assert np.allclose(doc_entropy, metrics.entropy(probs)), "the two entropies disagree"
    assert set(doc_selected.tolist()) == set(select.top_entropy(probs, args.k).tolist()), \
        "the two selections disagree"

    # the same probabilities with ~10 % of entries set to exactly zero (renormalised)
    zeroed = probs.copy()
    zeroed[rng.random(zeroed.shape) < 0.1] = 0.0
    zeroed[zeroed.sum(axis=1) == 0, 0] = 1.0
    zeroed /= zeroed.sum(axis=1, keepdims=True)
    n_check = min(args.rows, 100_000)
    with np.errstate(divide="ignore", invalid="ignore"):
        doc_nan = int(np.isnan(errata.document_entropy_loop(zeroed[:n_check])).sum())
    ours_nan = int(np.isnan(metrics.entropy(zeroed[:n_check])).sum())

    print(f"rows: {args.rows}")
    print(f"classes: {args.classes}")
    print(f"document_entropy_loop_s: {doc_loop:.3f}")
    print(f"labkit_entropy_s: {ours:.4f}")
    print(f"entropy_speedup: {doc_loop / ours:.1f}")
    print(f"entropy_speedup_target_met (>= 40): {doc_loop / ours >= 40}")
    print(f"document_sample_by_entropy_s: {doc_sample:.3f}")
    print(f"labkit_top_entropy_s: {ours_top:.4f}")
    print(f"top_entropy_speedup: {doc_sample / ours_top:.1f}")
    print(f"document_nan_rows_with_zeros: {doc_nan} of {n_check}")
    print(f"labkit_nan_rows_with_zeros: {ours_nan} of {n_check}")


if __name__ == "__main__":
    main()
