"""Expected answers for notebook 06 (knowledge distillation)."""

from __future__ import annotations

from labkit.exercises import PREDICTIONS, Exercise, paired_verdict


def soft_target_entropy(logits_lab, example) -> float:
    import torch

    from labkit import metrics

    return float(metrics.entropy(torch.softmax(logits_lab[example].detach().cpu().double() / 8, 0).numpy()))


def kd_loss_t2(s_demo, t_demo) -> float:
    from labkit import distill

    return float(distill.kd_loss(s_demo, t_demo, temperature=2.0).item())


def trainable_layer2_on(teacher) -> int:
    return sum(p.numel() for name, p in teacher.named_parameters()
               if name.split(".")[0] in ("layer2", "layer3", "fc"))


def temperature_accuracy_effect(experiment):
    return paired_verdict(experiment, "T = 4", "T = 1", by="temperature", pair="image", value="correct",
                          label="teacher's top-1 accuracy")


EXERCISES = {
    "06-1": Exercise(soft_target_entropy, tol=1e-4,
                     hint="softmax(logits / T) along the class axis, then metrics.entropy of that vector."),
    "06-2": Exercise(kd_loss_t2, tol=1e-5,
                     hint="log_softmax for the student, softmax for the teacher, both divided by T; "
                          "'batchmean'; × T²."),
    "06-3": Exercise(trainable_layer2_on, hint="distill.set_trainable returns the number of trainable parameters."),
    "06-4": Exercise(temperature_accuracy_effect, choices=PREDICTIONS,
                     hint="dividing every logit by the same T > 0 keeps their order: which class is largest?"),
}
