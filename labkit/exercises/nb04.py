"""Expected answers for notebook 04 (diversity and KL divergence)."""

from __future__ import annotations

import numpy as np

from labkit.exercises import PREDICTIONS, Exercise, paired_verdict


def kl_one_class(C) -> float:
    return float(np.log(C))


def vendi_duplicated_ratio(A, gamma) -> float:
    from labkit import metrics

    return float(metrics.vendi_score(np.vstack([A, A]), gamma=gamma) / metrics.vendi_score(A, gamma=gamma))


def infinite_direction() -> str:
    return "KL(reference||subset)"


def one_class_vendi_effect(experiment):
    return paired_verdict(experiment, "one class", "random", by="subset", pair="repeat", value="vendi",
                          label="Vendi score")


EXERCISES = {
    "04-1": Exercise(kl_one_class, tol=1e-6,
                     hint="p is one-hot: the only term is 1 · log(1 / q₀), and q₀ = 1/C."),
    "04-2": Exercise(vendi_duplicated_ratio, tol=1e-6,
                     hint="call metrics.vendi_score on np.vstack([A, A]) and on A, both with gamma=GAMMA, and "
                          "divide."),
    "04-3": Exercise(infinite_direction,
                     hint="KL(P‖Q) is infinite where Q = 0 < P: which of the two has a zero share of the missing "
                          "class?"),
    "04-4": Exercise(one_class_vendi_effect, choices=PREDICTIONS,
                     hint="images of one class resemble each other: the kernel matrix has fewer large "
                          "eigenvalues, so fewer 'effective' distinct samples."),
}
