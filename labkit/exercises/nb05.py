"""Expected answers for notebook 05 (transfer learning)."""

from __future__ import annotations

import copy

from labkit.exercises import PREDICTIONS, Exercise, paired_verdict


def trainable_last_block(source) -> int:
    from labkit import transfer

    model = transfer.replace_head(copy.deepcopy(source), 5)
    return transfer.count_trainable(transfer.freeze(model, trainable=(*transfer.blocks(model)[-1], "fc")))


def running_mean_changes(source, X_pool) -> bool:
    import torch

    from labkit import train

    model = copy.deepcopy(source)
    for p in model.parameters():
        p.requires_grad = False
    before = model.features[1].running_mean.clone()
    with torch.no_grad():
        model.train()(train.prepare_images(X_pool[:64], device=next(model.parameters()).device))
    return bool(not torch.equal(before, model.features[1].running_mean))


def finetune_gain_one_label(results) -> float:
    wide = results[results.labels_per_class == 1].pivot(index="repeat", columns="method", values="accuracy")
    return float((wide["fine-tune (all layers)"] - wide["scratch"]).mean())


def pretrained_features_effect(experiment):
    return paired_verdict(experiment, "random init", "pretrained", by="features", pair="repeat",
                          value="accuracy", label="linear-probe test accuracy")


EXERCISES = {
    "05-1": Exercise(trainable_last_block,
                     hint="trainable=(*transfer.blocks(m)[-1], 'fc'); count_trainable counts requires_grad=True."),
    "05-2": Exercise(running_mean_changes,
                     hint="running statistics are buffers: do train-mode forward passes update them, whatever "
                          "requires_grad says?"),
    "05-3": Exercise(finetune_gain_one_label, tol=1e-9,
                     hint="pivot by repeat, subtract the scratch column from the fine-tune column, take the mean."),
    "05-4": Exercise(pretrained_features_effect, choices=PREDICTIONS,
                     hint="the source network learnt edges and shapes of clothing; random filters only mix pixels."),
}
