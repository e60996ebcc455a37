"""RunConfig: the typed sections of a run's configuration and the allowed values of each key."""

from __future__ import annotations

from dataclasses import dataclass, field

METHODS = ("simsiam", "simclr", "instdisc", "moco", "byol", "vicreg", "barlow_twins")
PREDICTORS = ("mlp", "none", "fixed-random")
SIMILARITIES = ("cosine", "cross-entropy")
STOP_GRAD_AT = ("output", "encoder", "projector")
BACKBONES = ("resnet18-cifar", "resnet50", "resnet-small")
DATASETS = ("digits", "cifar10", "cifar100", "stl10", "imagefolder")
DEVICES = ("auto", "cpu", "cuda")
OPTIMIZERS = ("sgd", "lars")


@dataclass
class MethodConfig:
    """Which method trains, and the SimSiam ablation switches."""

    name: str = "simsiam"
    stop_grad: bool = True
    # "encoder": stop-grad on the target branch's encoder output, which then goes
    # through a trainable MLP of its own (the sg-encoder-mlp variant); "projector": stop-grad after the
    # whole encoder f = backbone + projector, then a trainable MLP P2 (sg-after-encoder-two-mlps).
    stop_grad_at: str = "output"
    predictor: str = "mlp"
    symmetric: bool = True
    similarity: str = "cosine"
    temperature: float = 0.5  # simclr / instdisc / moco
    queue_size: int = 4096  # moco
    bank_negatives: int = 4096  # instdisc
    bank_momentum: float = 0.5  # instdisc: v <- m v + (1 - m) f
    ema_momentum: float = 0.99  # moco key encoder / byol base target momentum
    vicreg_lambda: float = 25.0  # vicreg: invariance weight
    vicreg_mu: float = 25.0  # vicreg: variance weight
    vicreg_nu: float = 1.0  # vicreg: covariance weight
    bt_lambda: float = 5e-3  # barlow_twins: off-diagonal (redundancy) weight


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
    lr: float = 30.0  # the classifier's lr (already scaled by batch/256 where the recipe scales it)
    momentum: float = 0.9
    weight_decay: float = 0.0


@dataclass
class RunConfig:
    """One run's whole configuration; `variant` and `scale` name where it came from."""

    variant: str = "simsiam"
    scale: str = "cifar10"
    description: str = ""
    group: str = ""  # replicas launched together by `launch --seeds N` share it
    method: MethodConfig = field(default_factory=MethodConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    linear_eval: LinearEvalConfig = field(default_factory=LinearEvalConfig)


SECTIONS = {
    "method": MethodConfig,
    "model": ModelConfig,
    "data": DataConfig,
    "optim": OptimConfig,
    "train": TrainConfig,
    "monitor": MonitorConfig,
    "linear_eval": LinearEvalConfig,
}
TOP_LEVEL_KEYS = ("variant", "scale", "description", "group")

# Allowed values per dotted key: a tuple of choices, or (minimum, maximum, min_inclusive).
CHOICES: dict[str, tuple[str, ...]] = {
    "method.name": METHODS,
    "method.predictor": PREDICTORS,
    "method.similarity": SIMILARITIES,
    "method.stop_grad_at": STOP_GRAD_AT,
    "model.backbone": BACKBONES,
    "data.name": DATASETS,
    "train.device": DEVICES,
    "optim.name": OPTIMIZERS,
    "linear_eval.optimizer": ("sgd", "lars"),
}
POSITIVE = {
    "method.temperature",
    "method.queue_size",
    "method.bank_negatives",
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
    "monitor.system_every_s",
    "monitor.flush_every_s",
    "linear_eval.epochs",
    "linear_eval.batch_size",
    "linear_eval.lr",
}
NON_NEGATIVE = {
    "method.vicreg_lambda",
    "method.vicreg_mu",
    "method.vicreg_nu",
    "method.bt_lambda",
    "linear_eval.weight_decay",
    "linear_eval.momentum",
    "optim.weight_decay",
    "optim.momentum",
    "optim.warmup_epochs",
    "data.workers",
    "train.seed",
}
MAXIMUM = {"train.seed": 2**63 - 1}  # torch.manual_seed takes 64 bits
UNIT_INTERVAL = {"method.bank_momentum", "method.ema_momentum", "optim.momentum"}
