"""Is a run's data there? Checked where a launch is resolved (CLI, `slurm submit`, the app), before any folder is made.

Torch-free and cheap: the layouts the worker's loaders read (train/datasets.py), by their folder names. A
folder that does not exist is an error (a typo'd --set data.dir is the common mistake); an existing folder
without the data is fine when data.download is on (the worker downloads into it), an error otherwise.
"""

from __future__ import annotations

from pathlib import Path

from simsiam_tui.config.errors import ConfigError
from simsiam_tui.config.schema import RunConfig

# data.name -> the folder torchvision's loader expects inside data.dir, and where to get it
TORCHVISION = {
    "cifar10": ("cifar-10-batches-py", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),
    "cifar100": ("cifar-100-python", "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"),
    "stl10": ("stl10_binary", "https://cs.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"),
}


def check_data(cfg: RunConfig) -> None:
    """ConfigError naming the folder and the fix when the run's data cannot be there when its worker starts."""
    name, folder = cfg.data.name, Path(cfg.data.dir).expanduser()
    if name == "digits":  # shipped inside scikit-learn
        return
    fix = "fix: --set data.dir=DIR pointing at the data, or --scale digits for the offline scale"
    if not folder.is_dir():
        fetch = (
            f"`mkdir -p {folder}` lets the worker download {name} there (data.download is on; it needs the network), "
            if cfg.data.download and name in TORCHVISION
            else ""
        )
        raise ConfigError(f"data set {name}: data.dir '{folder}' is not a folder ({cfg.variant}); {fetch}{fix}")
    if name == "imagefolder":
        missing = [sub for sub in ("train", "val") if not (folder / sub).is_dir()]
        if missing:
            raise ConfigError(
                f"data set imagefolder: no {'/ and '.join(missing)}/ class folders in '{folder}'; {fix}"
            )
        return
    if name in TORCHVISION:
        expect, url = TORCHVISION[name]
        if not (folder / expect).is_dir() and not cfg.data.download:
            raise ConfigError(
                f"data set {name}: no {expect}/ in '{folder}' and data.download is off; unpack {url} there, "
                f"or --set data.download=true (the worker downloads it; needs the network on its machine)"
            )
