"""Expected answers for notebook 02 (active learning)."""

from __future__ import annotations

from labkit.exercises import PREDICTIONS, Exercise, paired_verdict


def margin_uncertainty() -> float:
    from labkit import active

    return float(active.uncertainty([[0.6, 0.3, 0.1]], "margin")[0])


def boltzmann_uniform() -> float:
    from labkit import active

    return float(active.boltzmann_probabilities([0.0, 0.5, 1.0], 0.0)[2])


def own_strategy_accuracy(make_model, X_pool, y_pool, X_test, y_test, *, n_initial, batch_size,
                          random_state) -> float:
    from labkit import active

    curve = active.run(make_model(), X_pool, y_pool, X_test, y_test, strategy="least_confident",
                       n_initial=n_initial, batch_size=batch_size, budget=100, random_state=random_state)
    return float(curve.accuracy.iloc[-1])


def noisy_oracle_effect(experiment):
    return paired_verdict(experiment, "noisy oracle", "true labels", by="oracle", pair="repeat",
                          value="accuracy", label="final test accuracy")


EXERCISES = {
    "02-1": Exercise(margin_uncertainty, tol=1e-9,
                     hint="p₁ and p₂ are the two largest probabilities; the margin score is 1 − (p₁ − p₂)."),
    "02-2": Exercise(boltzmann_uniform, tol=1e-9, hint="β = 0 makes exp(β·U) = 1 for every sample."),
    "02-3": Exercise(own_strategy_accuracy, tol=1e-12,
                     hint="score each unlabelled sample by 1 − max p (model.predict_proba), take the top k with "
                          "active.query_top_k, and run active.run with the same seed, seed set size, batch "
                          "size and budget 100."),
    "02-4": Exercise(noisy_oracle_effect, choices=PREDICTIONS,
                     hint="every wrong label teaches the model a wrong boundary; with only 100 labels there is "
                          "little else to outvote them."),
}
