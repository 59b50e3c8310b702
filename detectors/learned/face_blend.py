"""Self-blended face model: a small CNN that sees where a face was blended into a frame.

Trained on faces only, with no manipulated clip (``training/train_face_blend.py``): each
training "fake" is a face blended with a slightly altered copy of itself through a soft mask,
the Self-Blended Images recipe (Shiohara & Yamasaki 2022), so what it learns is the trace any
face swap leaves where the rendered face meets the frame (the blending boundary of Face X-ray,
Li et al. 2020), not one method or generator. Because each source face gives one sample of
each class, the faces need not be camera faces: AI-generated portraits (ML72) are blended like
the FF++ originals' frames, and only widen the faces it learns the blend on.

Input: the video pass's grey deep crop (2x the face box, face <= 128 px), resampled to a
``side`` x ``side`` patch over ``context`` x the face box (:func:`face_patch`); inside the
network, the grey level (centred, scaled) and an SRM 3x3 high-pass residual (Fridrich &
Kodovsky 2012), truncated. Six 3x3 conv layers, global average, one logit per crop. The clip
statistic is the mean crop logit; its probability is a Platt mapping fitted on the trainer's
out-of-identity clip statistics (in the weight file's metadata).

References
----------
.. [1] K. Shiohara and T. Yamasaki, "Detecting deepfakes with self-blended images", CVPR 2022.
   arXiv:2204.08376
.. [2] L. Li, J. Bao, T. Zhang, H. Yang, D. Chen, F. Wen and B. Guo, "Face X-ray for more
   general face forgery detection", CVPR 2020. arXiv:1912.13458
.. [3] J. Fridrich and J. Kodovsky, "Rich models for steganalysis of digital images", IEEE
   TIFS 7(3), 2012. doi:10.1109/TIFS.2012.2190402
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from detectors.registry import detector
from detectors.video import _pass as P
from triage_app.model import DetectorResult, Finding, FrameSpan, Measurement

from . import _torch

NAME = "video_face_blend"
VERSION = "1.0"
#: The shipped weights (safetensors; architecture, calibration and training summary in the
#: file's metadata).
WEIGHTS = Path(__file__).resolve().parents[2] / "resources" / "models" / "face_blend.safetensors"

#: Defaults of the architecture; the weight file's metadata overrides them.
DEFAULT_CONFIG: dict[str, Any] = {
    "side": 112,          # patch side, px
    "context": 1.4,       # patch covers this many face boxes (face ~80 px)
    "clip": 8.0,          # SRM truncation, grey levels
    "grey_channel": True,  # also give the network the grey level (else the residual only)
    "channels": [16, 32, 32, 64, 64, 128],
    "strides": [1, 2, 1, 2, 2, 2],
    "calibration": {"a": 1.0, "b": 0.0},
}


def face_patch(gray: np.ndarray, face, *, side: int = DEFAULT_CONFIG["side"],
               context: float = DEFAULT_CONFIG["context"]) -> np.ndarray:
    """``side`` x ``side`` float32 patch of ``context`` x the face box ``(x, y, w, h)``,
    centred on the box (borders replicated), grey levels 0..255."""
    return P.crop_box(np.asarray(gray, np.float32), face, context, side)


def build_network(config: dict[str, Any] | None = None):
    """The CNN as a ``torch.nn.Module`` (imports torch). Input (N, 1, side, side) grey
    levels; output (N,) logits."""
    torch = _torch.torch()
    nn = torch.nn
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    kb = np.array([[-1, 2, -1], [2, -4, 2], [-1, 2, -1]], np.float32)[None, None] / 4.0

    class FaceBlendCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("highpass", torch.from_numpy(kb))
            self.clip = float(cfg["clip"])
            layers: list[Any] = []
            self.grey = bool(cfg["grey_channel"])
            cin = 2 if self.grey else 1
            for cout, stride in zip(cfg["channels"], cfg["strides"]):
                layers += [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
                           nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
                cin = cout
            self.features = nn.Sequential(*layers)
            self.head = nn.Linear(cin, 1)

        def forward(self, x):
            r = torch.nn.functional.conv2d(x, self.highpass, padding=1)
            r = torch.clamp(r, -self.clip, self.clip) / self.clip
            h = self.features(torch.cat([(x - 128.0) / 64.0, r], dim=1) if self.grey else r)
            return self.head(h.mean(dim=(2, 3))).squeeze(1)

    return FaceBlendCNN()


def patch_logits(net: Any, patches: np.ndarray, *, batch: int = 64) -> np.ndarray:
    """Logits of the network on patches (N, side, side), float64 (N,)."""
    torch = _torch.torch()
    out = []
    with torch.inference_mode():
        for i in range(0, len(patches), batch):
            x = torch.from_numpy(np.ascontiguousarray(patches[i:i + batch], np.float32))[:, None]
            out.append(net(x).double().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def save_model(net: Any, config: dict[str, Any], path: Path, summary: dict[str, Any]) -> None:
    """Weights as safetensors with the config and the training summary as metadata (the same
    training gives the same bytes: :func:`detectors.learned._torch.save_safetensors`)."""
    state = {k: v.detach().contiguous().clone() for k, v in net.state_dict().items()
             if k != "highpass"}
    _torch.save_safetensors(state, path, {"config": json.dumps(config, sort_keys=True),
                                          "training": json.dumps(summary, sort_keys=True),
                                          "detector": f"{NAME} {VERSION}"})


def load_model(path: str | Path = WEIGHTS) -> tuple[Any, dict[str, Any], str]:
    """(network in eval mode, config, SHA-256), loaded once per process, never with pickle."""
    return _torch.load_network(path, DEFAULT_CONFIG, build_network, buffers=("highpass",))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def crop_logits(net: Any, config: dict[str, Any], crops) -> np.ndarray:
    """Logits of the network on the video pass's deep crops (``DeepCrop``: gray, face)."""
    patches = np.stack([face_patch(c.gray, c.face, side=int(config["side"]),
                                   context=float(config["context"])) for c in crops])
    return patch_logits(net, patches)


# --------------------------------------------------------------------------- detector

#: Face crops (the video pass's deep crops) needed for a judgement.
MIN_CROPS = 3
#: Crop probability from which a run of crops is reported as a finding.
FINDING_THRESHOLD = 0.7
#: At most this many findings.
MAX_FINDINGS = 6


@detector(
    name=NAME, version=VERSION, modalities=("video",),
    method="Small CNN on grey face crops of the tracked face (the video pass's budgeted "
           "source-resolution crops), trained with self-blended pseudo-fakes of faces only "
           "(no manipulated clip); clip statistic = mean crop logit, Platt-calibrated on "
           "out-of-identity cross-validation.",
    reference="K. Shiohara and T. Yamasaki, 'Detecting deepfakes with self-blended images', "
              "CVPR 2022; L. Li et al., 'Face X-ray for more general face forgery detection', "
              "CVPR 2020",
    limits="Trained on the faces of three FF++ source clips, five photos and ML72's "
           "generated portraits: few people, so its level moves with the person and camera "
           "(out-of-identity clip AUC 0.67 on FF++; each swap against its own original: "
           "Deepfakes 0.96, FaceSwap 0.77 frame AUC). It looks for a blend between the face "
           "and its surroundings: face swaps; a reenactment that re-renders only the mouth "
           "(NeuralTextures) is missed. Needs a frontal face of at least 40 px tracked for "
           "2 s. Grey only: a colour mismatch alone is not seen. Shown, not fused (weight 0 "
           "in the video fusion): fitted on the 7 real FF++ clips it did not improve the "
           "held-out fused score. See resources/models/face_blend.md.",
    artifacts=("blending_artifacts",),
    params={"weights": WEIGHTS.name, "finding_threshold": FINDING_THRESHOLD,
            "deep_max": P.DEEP_MAX},
    weight_files=(str(WEIGHTS),),
)
def video_face_blend(media, *, weights: str | Path | None = None) -> DetectorResult:
    """Probability that the tracked face was blended into the frames (a face swap).

    Parameters
    ----------
    media : VideoMedia
    weights : path, optional
        Another safetensors file of the same architecture (default: the shipped one; the
        trainer's fold models are scored through this).

    Returns
    -------
    DetectorResult
        ``score`` = ``sigmoid(a * mean_logit + b)`` with the weight file's Platt constants.
        When the clip leans blended (score >= 0.5), each run of crops whose own probability
        is at least :data:`FINDING_THRESHOLD` is a ``blending_artifacts`` finding over that
        time span and the face box.
    """
    t0 = time.perf_counter()
    vp = P.video_pass(media)
    why = vp.face_applicability(min_deep=MIN_CROPS)
    if why is not None:
        return DetectorResult.not_applicable(NAME, VERSION, why, extras=vp.summary(),
                                             runtime=time.perf_counter() - t0)
    net, config, sha = load_model(weights or WEIGHTS)
    z = crop_logits(net, config, vp.deep)
    cal = config["calibration"]
    score = float(_sigmoid(cal["a"] * float(z.mean()) + cal["b"]))
    per_crop = _sigmoid(cal["a"] * z + cal["b"])
    findings: list[Finding] = []
    if score >= 0.5:
        for a, b in P.segments(per_crop >= FINDING_THRESHOLD, gap=1):
            seg = float(np.mean(per_crop[a:b + 1]))
            findings.append(Finding(
                artifact="blending_artifacts",
                location=FrameSpan(float(vp.deep[a].time), float(vp.deep[b].time + 1.0 / vp.fps),
                                   vp.span_box(vp.deep[a].index, vp.deep[b].index)),
                strength=float(min(1.0, max(0.0, 2 * seg - 1))),
                measurement=Measurement("self-blend model probability of the face crops",
                                        round(seg, 4), FINDING_THRESHOLD),
                detector=NAME, region="midface"))
        findings.sort(key=lambda f: -f.strength)
    extras = {**vp.summary(), "crops": len(vp.deep), "mean_logit": round(float(z.mean()), 4),
              "crop_logit_quartiles": [round(float(q), 3) for q in np.percentile(z, [25, 50, 75])],
              "share_crops_above_threshold": round(float(np.mean(per_crop >= FINDING_THRESHOLD)), 4)}
    return DetectorResult(name=NAME, version=VERSION, status="ok", score=score,
                          findings=findings[:MAX_FINDINGS], runtime=time.perf_counter() - t0,
                          params={"weights": Path(weights or WEIGHTS).name,
                                  "weights_sha256": sha, "calibration": cal,
                                  "finding_threshold": FINDING_THRESHOLD},
                          extras=extras)
