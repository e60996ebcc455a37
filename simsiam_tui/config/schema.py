"""RunConfig: the typed sections of a run's configuration and the allowed values of each key."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

from simsiam_tui.config.methods import name_of, sections

T = TypeVar("T")
PREDICTORS = ("mlp", "none", "fixed-random")
SIMILARITIES = ("cosine", "cross-entropy")
STOP_GRAD_AT = ("output", "encoder", "projector")
BACKBONES = ("resnet18-cifar", "resnet50", "resnet-small")
DATASETS = ("digits", "cifar10", "cifar100", "stl10", "imagefolder")
DEVICES = ("auto", "cpu", "cuda")
OPTIMIZERS = ("sgd", "lars")


def _method_sections() -> dict[str, Any]:
    """Every discovered method's section at its defaults (simsiam_tui/config/methods/)."""
    return {name: cls() for name, cls in sections().items()}


@dataclass
class MethodConfig:
    """Which method trains, the SimSiam ablation switches, and each method's own section (`[method.<name>]`)."""

    name: str = "simsiam"  # any method with a section in simsiam_tui/config/methods/
    # The switches stay here, not in [method.simsiam]: eight presets flip them and MoCo reads `symmetric`.
    stop_grad: bool = True
    # "encoder": stop-grad on the target branch's encoder output, which then goes
    # through a trainable MLP of its own (the sg-encoder-mlp variant); "projector": stop-grad after the
    # whole encoder f = backbone + projector, then a trainable MLP P2 (sg-after-encoder-two-mlps).
    stop_grad_at: str = "output"
    predictor: str = "mlp"
    symmetric: bool = True
    similarity: str = "cosine"
    # method name -> its parameter dataclass; written to TOML/JSON as method.<name>.<key>, never as "sections"
    sections: dict[str, Any] = field(default_factory=_method_sections)

    def params(self, kind: type[T]) -> T:
        """This config's values of one method's section, e.g. `cfg.method.params(VICRegParams).sim_coeff`."""
        value = self.sections[name_of(kind)]
        if not isinstance(value, kind):
            raise TypeError(f"method section {name_of(kind)!r} holds a {type(value).__name__}, not {kind.__name__}")
        return value


@dataclass
class ModelConfig:
    """Backbone, projector and predictor shapes."""

    backbone: str = "resnet18-cifar"
    width: int = 64  # base width of the small digits ResNet
    dim: int = 2048
    pred_dim: int = 512
    proj_layers: int = 2


@dataclass
class DataConfig:
    """Data set, location, batch and augmentation."""

    name: str = "cifar10"
    dir: str = "./data"
    batch_size: int = 512
    image_size: int = 32
    workers: int = 4
    blur: bool = False
    download: bool = True


@dataclass
class OptimConfig:
    """SGD (or LARS) with lr = lr x batch/256, cosine decay and optional warm-up."""

    name: str = "sgd"
    lr: float = 0.03
    weight_decay: float = 5e-4
    momentum: float = 0.9
    fix_pred_lr: bool = True
    warmup_epochs: int = 0


@dataclass
class TrainConfig:
    """Length, seed, device and speed options of the loop."""

    epochs: int = 800
    seed: int = 0
    device: str = "auto"
    compile: bool = False


@dataclass
class MonitorConfig:
    """How often the worker writes each kind of event."""

    log_every: int = 10
    collapse_every: int = 50
    knn_every: int = 1
    knn_k: int = 200
    knn_t: float = 0.1
    system_every_s: float = 5.0
    flush_every_s: float = 1.0
    probe: bool = True  # the online linear probe on detached backbone features (linear_top1 in eval events)
    on_collapse: str = "continue"  # stop: end the run once its verdict says collapsed for collapse_patience evals
    collapse_patience: int = 2  # evaluations in a row judged `collapsed` before --on-collapse stop acts


@dataclass
class LinearEvalConfig:
    """A linear-evaluation run (`eval linear`): the frozen source run and the classifier's protocol."""

    source_run: str = ""  # set: this run trains a linear classifier on the frozen features of that run
    source_dir: str = ""  # the source run's folder (absolute)
    checkpoint: str = ""  # the checkpoint it froze, a link or copy inside this run's folder (absolute)
    protocol: str = ""  # imagenet | cifar | digits: whose recipe the values below follow
    optimizer: str = "sgd"  # sgd | lars
    epochs: int = 100
    batch_size: int = 256
    lr: float = 30.0  # the lr at the protocol's batch_size; the worker scales it by linear_eval.batch_size / that batch
    momentum: float = 0.9
    weight_decay: float = 0.0


@dataclass
class RunConfig:
    """One run's whole configuration; `variant` and `scale` name where it came from."""

    variant: str = "simsiam"
    scale: str = "cifar10"
    description: str = ""
    group: str = ""  # replicas launched together by `launch --seeds N` share it
    sweep: str = ""  # the point of a `launch --sweep` grid this run trains, e.g. "optim.lr=0.03,optim.weight_decay=0.0005"
    method: MethodConfig = field(default_factory=MethodConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    linear_eval: LinearEvalConfig = field(default_factory=LinearEvalConfig)

    def to_dict(self) -> dict[str, Any]:
        """The nested dict form, as stored in config.json: each method's section as method.<name>, not "sections"."""
        data = asdict(self)
        data["method"].update(data["method"].pop("sections"))
        return data


SECTIONS = {
    "method": MethodConfig,
    "model": ModelConfig,
    "data": DataConfig,
    "optim": OptimConfig,
    "train": TrainConfig,
    "monitor": MonitorConfig,
    "linear_eval": LinearEvalConfig,
}
TOP_LEVEL_KEYS = ("variant", "scale", "description", "group", "sweep")

# Allowed values per dotted key: a tuple of choices, or (minimum, maximum, min_inclusive).
# A method's own keys (method.<name>.<key>) carry their rules in their dataclass (config/methods/).
CHOICES: dict[str, tuple[str, ...]] = {
    "method.predictor": PREDICTORS,
    "method.similarity": SIMILARITIES,
    "method.stop_grad_at": STOP_GRAD_AT,
    "model.backbone": BACKBONES,
    "data.name": DATASETS,
    "train.device": DEVICES,
    "optim.name": OPTIMIZERS,
    "linear_eval.optimizer": ("sgd", "lars"),
    "monitor.on_collapse": ("continue", "stop"),
}
POSITIVE = {
    "model.width",
    "model.dim",
    "model.pred_dim",
    "model.proj_layers",
    "data.batch_size",
    "data.image_size",
    "optim.lr",
    "train.epochs",
    "monitor.log_every",
    "monitor.collapse_every",
    "monitor.knn_every",
    "monitor.knn_k",
    "monitor.knn_t",
    "monitor.collapse_patience",
    "monitor.system_every_s",
    "monitor.flush_every_s",
    "linear_eval.epochs",
    "linear_eval.batch_size",
    "linear_eval.lr",
}
NON_NEGATIVE = {
    "linear_eval.weight_decay",
    "linear_eval.momentum",
    "optim.weight_decay",
    "optim.momentum",
    "optim.warmup_epochs",
    "data.workers",
    "train.seed",
}
# Upper bounds no researcher reaches: past them a typo (epochs=10**9) would start a run that never ends or
# asks for terabytes. An int key not named here is bounded by INT_MAXIMUM.
MAXIMUM: dict[str, int | float] = {
    "train.seed": 2**63 - 1,  # torch.manual_seed takes 64 bits
    "train.epochs": 100_000,
    "linear_eval.epochs": 100_000,
    "optim.warmup_epochs": 100_000,
    "data.batch_size": 65_536,
    "linear_eval.batch_size": 65_536,
    "data.image_size": 4096,
    "data.workers": 256,
    "model.width": 4096,
    "model.dim": 65_536,
    "model.pred_dim": 65_536,
    "monitor.log_every": 1_000_000,
    "monitor.collapse_every": 1_000_000,
    "monitor.knn_every": 100_000,
    "monitor.knn_k": 65_536,
    "monitor.collapse_patience": 1000,
    "monitor.system_every_s": 86_400.0,
    "monitor.flush_every_s": 86_400.0,
    "method.moco.queue_size": 1_048_576,
    "method.instdisc.negatives": 1_048_576,
}
INT_MAXIMUM = 2**31 - 1
MAX_SEEDS = 1000  # `launch --seeds N`: replicas per variant
UNIT_INTERVAL = {"optim.momentum"}
# The common keys of [method]: a method's section may not be named like one of them.
COMMON_METHOD_KEYS = tuple(f.name for f in fields(MethodConfig) if f.name != "sections")
