"""gpu_check.sh only: with SIMSIAM_TUI_FAKE_CIFAR=1, torchvision's CIFAR loaders accept a fake folder's checksums.

torchvision checks each pickled batch against the real files' md5; the fake CIFAR-10 folder that
benchmarks/fake_cifar.py writes is in the same format with other pixels, so the check is lifted here,
in the processes of the GPU check alone (this folder is on PYTHONPATH only there).
"""

from __future__ import annotations

import os

if os.environ.get("SIMSIAM_TUI_FAKE_CIFAR") == "1":
    from torchvision.datasets import cifar

    cifar.CIFAR10._check_integrity = lambda self: True  # type: ignore[method-assign]
    cifar.check_integrity = lambda *args, **kwargs: True  # batches.meta is checked through this one
