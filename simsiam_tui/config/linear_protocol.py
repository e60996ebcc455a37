"""The linear-evaluation protocol per scale (the paper's, or the offline scale's), as config values.

ImageNet (SimSiam paper, appendix): LARS (apex's LARC as main_lincls.py uses it: trust 0.001, no clipping),
batch 4096, lr = 0.02 x batch/256, cosine decay set once per epoch, 90 epochs, no weight decay; the official
code's default base lr is 0.1 (set --set linear_eval.lr=1.6 for it).
CIFAR (the paper's CIFAR section; Chen & He follow the MoCo CIFAR recipe): SGD, lr 30, batch 256, no weight
decay, cosine, 100 epochs. The paper is silent on the momentum (0.9 chosen, as in its ImageNet recipe) and on
the augmentation (none chosen: features of the centre-cropped image are computed once and the classifier
trains on them). digits: the CIFAR recipe, which on 1347 cached features takes seconds.
"""

from __future__ import annotations

from typing import Any

IMAGENET: dict[str, Any] = {"optimizer": "lars", "batch_size": 4096, "base_lr": 0.02, "epochs": 90, "momentum": 0.9}
CIFAR: dict[str, Any] = {"optimizer": "sgd", "batch_size": 256, "lr": 30.0, "epochs": 100, "momentum": 0.9}
PROTOCOL_OF_DATA = {"imagefolder": "imagenet", "cifar10": "cifar", "cifar100": "cifar", "stl10": "cifar", "digits": "digits"}


def linear_protocol(data_name: str, epochs: int | None = None) -> dict[str, Any]:
    """The `linear_eval` section's values for a source run on `data_name` (epochs overridable)."""
    protocol = PROTOCOL_OF_DATA.get(data_name, "cifar")
    if protocol == "imagenet":
        values = {**IMAGENET, "lr": IMAGENET["base_lr"] * IMAGENET["batch_size"] / 256}
        values.pop("base_lr")
    else:
        values = dict(CIFAR)
    values.update(protocol=protocol, weight_decay=0.0)
    if epochs is not None:
        values["epochs"] = epochs
    return values
