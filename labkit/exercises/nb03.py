"""Expected answers for notebook 03 (selection and weighting)."""

from __future__ import annotations

import numpy as np

from labkit.exercises import PREDICTIONS, Exercise, paired_verdict


def stratified_counts() -> list[int]:
    from labkit import select

    y_ex = np.repeat([0, 1, 2], [50, 4, 20])
    return np.bincount(y_ex[select.stratified_subset(y_ex, 30, random_state=0)]).tolist()


def nan_weights() -> int:
    from labkit import errata

    with np.errstate(divide="ignore", invalid="ignore"):
        weights = errata.document_weight_by_entropy(np.array([[0.5, 0.5], [0.9, 0.1], [1.0, 0.0]]))
    return int(np.isnan(weights).sum())


def most_selected_class(share) -> str:
    return str(share.loc["top_entropy"].idxmax())


def confident_selection_effect(experiment):
    return paired_verdict(experiment, "most confident", "random", by="selection", pair="repeat",
                          value="accuracy", label="test accuracy")


EXERCISES = {
    "03-1": Exercise(stratified_counts,
                     hint="a class smaller than its equal share is taken whole; the rest is shared equally."),
    "03-2": Exercise(nan_weights,
                     hint="one row's entropy is NaN; what is a sum with a NaN in it, and a number divided by it?"),
    "03-3": Exercise(most_selected_class,
                     hint="look at the 'share in top_entropy' column, or share.loc['top_entropy'].idxmax()."),
    "03-4": Exercise(confident_selection_effect, choices=PREDICTIONS,
                     hint="a sample the model already classifies with confidence mostly confirms what it knows; "
                          "those samples also crowd into the easy classes."),
}
