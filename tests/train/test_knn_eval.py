"""The loop's fast kNN evaluation reports exactly the top-1 of a plain weighted kNN on the same fixed model."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F

from simsiam_tui.store import EventWriter
from simsiam_tui.train.knn import inference_encoder
from simsiam_tui.train.loop import StopFlag, Trainer
from simsiam_tui.train.runtime import SafeEvents
from tests.train.conftest import tiny_config


def _plain_knn_top1(model: torch.nn.Module, prepare, bank_x, bank_y, query_x, query_y, classes: int, k: int, t: float) -> float:
    """Weighted kNN as InstDisc defines it, written plainly: all similarities, top k, exp(s/t) votes per class."""
    model.eval()
    with torch.no_grad():
        bank = F.normalize(model(prepare(bank_x)), dim=1)  # B x C
        queries = F.normalize(model(prepare(query_x)), dim=1)  # Q x C
        sim = queries @ bank.T  # Q x B
        top_sim, top_idx = sim.topk(min(k, bank.shape[0]), dim=1)  # Q x k
        votes = F.one_hot(bank_y[top_idx], classes).float() * (top_sim / t).exp().unsqueeze(-1)  # Q x k x classes
        pred = votes.sum(dim=1).argmax(dim=1)
    model.train()
    return float((pred == query_y).float().mean())


def test_fast_knn_matches_plain_reference(tmp_path: Path) -> None:
    torch.manual_seed(0)
    cfg = tiny_config(monitor={"knn_k": 200, "knn_t": 0.1}, model={"width": 16})
    events = SafeEvents(EventWriter(tmp_path / "events.jsonl", 0.0))
    trainer = Trainer(cfg, tmp_path / "last.pt", events, StopFlag())
    # a fixed model with non-trivial BatchNorm statistics: a few train-mode forward passes on real digits
    with torch.no_grad():
        for images in list(trainer.train_src.epoch_batches(0, 0, 128))[:5]:
            trainer.method.backbone(trainer.augment.prepare_eval(images))
    before = {k: v.clone() for k, v in trainer.method.state_dict().items()}
    trainer.evaluate()
    events.close()
    (event,) = [e for e in map(json.loads, (tmp_path / "events.jsonl").read_text().splitlines()) if e["kind"] == "eval"]

    expected = _plain_knn_top1(
        trainer.method.backbone, trainer.augment.prepare_eval,
        trainer.bank_src.images, trainer.bank_src.labels, trainer.query_src.images, trainer.query_src.labels,
        trainer.num_classes, k=200, t=0.1,
    )
    assert event["knn_top1"] == expected
    assert 0.15 < expected < 1.0  # a real, non-trivial accuracy (chance is 0.1)
    assert trainer.method.training  # the live model is left as it was, weights and BN statistics too
    after = trainer.method.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_inference_encoder_folds_batchnorm() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.Flatten())
    model(torch.randn(16, 3, 8, 8))  # train mode: running stats move
    encoder = inference_encoder(model, channels_last=True)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in encoder.modules())
    x = torch.randn(4, 3, 8, 8)
    model.eval()
    torch.testing.assert_close(encoder(x.contiguous(memory_format=torch.channels_last)), model(x), rtol=1e-5, atol=1e-5)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # the original is untouched
