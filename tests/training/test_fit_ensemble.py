"""Tests for training/fit_ensemble.py: the fusion fit on `triage eval`-style item records."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "training"))
import fit_ensemble as F  # noqa: E402


def _items(n: int, seed: int, source: str) -> list[dict]:
    """Half manipulated; ``signal`` separates the classes, ``noise`` does not."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        fake = i % 2 == 1
        sig = float(np.clip(rng.normal(0.75 if fake else 0.3, 0.12), 0.01, 0.99))
        noise = float(rng.uniform(0.05, 0.95))
        out.append({"path": f"{source}/{i}.png", "source": source, "modality": "image",
                    "label": "manipulated" if fake else "authentic",
                    "scores": {"signal": sig, "noise": noise}})
    return out


def test_fit_pools_files_picks_l2_by_held_out_brier_and_keeps_other_modalities(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"items": _items(60, 0, "srcA")}))
    b.write_text(json.dumps({"items": _items(40, 1, "srcB")}))
    out = tmp_path / "ensemble.json"
    out.write_text(json.dumps({"audio": {"weights": {"x": 1.0}}}))
    assert F.main([str(a), str(b), "--modality", "image", "--out", str(out)]) == 0
    fitted = json.loads(out.read_text())
    assert fitted["audio"] == {"weights": {"x": 1.0}}          # the other modality is kept
    img = fitted["image"]
    assert img["cross_validation"]["n"] == 100                  # both files pooled
    assert img["weights"]["signal"] > img["weights"]["noise"] >= 0.0
    assert img["cross_validation"]["auc"] > 0.85
    grid = img["held_out_brier_by_l2"]
    assert set(grid) == {f"{v:g}" for v in F.L2_GRID}
    assert img["l2"] in F.L2_GRID
    assert grid[f"{img['l2']:g}"] <= min(grid.values()) + 0.0005
    assert "a.json + b.json" in img["method"]


def test_fixed_l2_is_used_as_given(tmp_path):
    a = tmp_path / "a.json"
    a.write_text(json.dumps({"items": _items(60, 2, "srcA")}))
    out = tmp_path / "e.json"
    assert F.main([str(a), "--l2", "0.05", "--out", str(out)]) == 0
    img = json.loads(out.read_text())["image"]
    assert img["l2"] == 0.05 and list(img["held_out_brier_by_l2"]) == ["0.05"]


def test_fit_weights_set_the_prior_not_the_count_of_generated_fakes():
    """Six weighted-1/6 fakes per original weigh as one: the fitted bias of an uninformative
    detector is then the balanced prior (about 0), not log(6)."""
    items = []
    for i in range(30):
        items.append({"path": f"o/{i}", "source": "s", "modality": "image", "label": "authentic",
                      "scores": {"d": 0.5}})
        items += [{"path": f"o/{i}#{k}", "source": "s", "modality": "image",
                   "label": "manipulated", "fit_weight": 1 / 6, "scores": {"d": 0.5}}
                  for k in range(6)]
    x = F.design(items, ["d"])
    y = np.array([it["label"] == "manipulated" for it in items], float)
    _, b_unweighted = F.fit(x, y, l2=0.01)
    _, b_weighted = F.fit(x, y, l2=0.01, sample_weight=F.fit_weights(items))
    assert b_unweighted == pytest.approx(np.log(6), abs=0.05)
    assert b_weighted == pytest.approx(0.0, abs=0.05)


def test_ordinary_detectors_are_one_sided_high_precision_ones_centred():
    """Regression (demo case): "no generator fingerprint" pushed a spliced photo to
    authentic, because centres were means and AI images raise the mean. An ordinary detector
    at its absence floor now adds nothing; metadata keeps its mean."""
    from detectors.ensemble import ABSENCE, logit

    items = [{"scores": {"generator_fingerprint": s, "metadata": m}}
             for s, m in ((0.99, 0.9), (0.98, 0.5), (0.01, 0.1), (0.02, 0.5))]
    c = F.centers_of(items, ["generator_fingerprint", "metadata"])
    assert c["generator_fingerprint"] == pytest.approx(logit(ABSENCE))
    assert c["metadata"] == pytest.approx(np.mean([logit(m) for m in (0.9, 0.5, 0.1, 0.5)]))
    x = F.design([{"scores": {"generator_fingerprint": 0.0}}], ["generator_fingerprint"], c)
    assert x[0, 0] == pytest.approx(0.0, abs=1e-5)


def test_held_out_figures_are_also_reported_over_several_fold_assignments(tmp_path):
    """One random split's ECE on a few hundred items moves by several points; the fit also
    reports mean, min and max over ``--cv-repeats`` assignments, the first being the split of
    the headline figures."""
    a = tmp_path / "a.json"
    a.write_text(json.dumps({"items": _items(80, 3, "srcA")}))
    out = tmp_path / "e.json"
    assert F.main([str(a), "--cv-repeats", "3", "--out", str(out)]) == 0
    img = json.loads(out.read_text())["image"]
    rep = img["cross_validation_repeated"]
    assert rep["assignments"] == 3
    for k in ("auc", "brier", "ece"):
        assert rep[k]["min"] <= rep[k]["mean"] <= rep[k]["max"]
        assert rep[k]["min"] <= img["cross_validation"][k] + 1e-4
        assert img["cross_validation"][k] <= rep[k]["max"] + 1e-4
    assert rep["auc"]["min"] > 0.8


def test_generated_video_pieces_share_the_fold_of_their_clip_and_its_fakes():
    corpus_fake = {"path": "ffpp_c23/manipulated/Deepfakes_519_515.mp4", "source": "ffpp_c23"}
    piece = {"path": "generated/self_blend/ffpp_c23/authentic/youtube_519.mp4#3",
             "source": "generated_video", "origin": "ffpp_c23/authentic/youtube_519.mp4",
             "origin_source": "ffpp_c23"}
    other = dict(piece, origin="ffpp_c23/authentic/youtube_634.mp4")
    assert F.group_of(piece) == F.group_of(corpus_fake) == "ffpp:519"
    assert F.group_of(other) != F.group_of(piece)


def test_video_fit_inherits_soundtrack_weights_and_keeps_fixed_absent_detectors(tmp_path):
    """Clips without sound cannot fit the soundtrack detectors: --inherit gives them the audio
    fusion's weights and centres (a cloned voice over a real face must still count), and a
    --fixed detector the records never show (av_sync) keeps its weight."""
    items = [dict(it, modality="video", path=f"clip/{i}.mp4", source="clips",
                  scores={"video_signal": it["scores"]["signal"]})
             for i, it in enumerate(_items(60, 4, "clips"))]
    a = tmp_path / "v.json"
    a.write_text(json.dumps({"items": items}))
    out = tmp_path / "e.json"
    out.write_text(json.dumps({"audio": {"weights": {"spoof_lfcc": 0.7, "metadata": 0.5},
                                         "centers": {"spoof_lfcc": -1.1, "metadata": 0.0}}}))
    assert F.main([str(a), "--modality", "video", "--fixed", "video_av_sync=0.5",
                   "--inherit", "audio", "--out", str(out)]) == 0
    vid = json.loads(out.read_text())["video"]
    assert vid["weights"]["spoof_lfcc"] == 0.7 and vid["centers"]["spoof_lfcc"] == -1.1
    assert vid["inherited_weights"] == {"spoof_lfcc": 0.7}      # metadata is not inherited
    assert vid["weights"]["video_av_sync"] == 0.5
    assert vid["centers"]["video_av_sync"] == pytest.approx(-1.0986, abs=1e-3)
    assert vid["weights"]["video_signal"] > 0
    assert "from the audio fusion" in vid["method"]



def test_real_only_leaves_a_detector_out_of_the_generated_records():
    from training.fit_ensemble import drop_generated_scores

    items = [{"source": "generated_video", "scores": {"video_face_blend": 0.9, "video_temporal": 0.4}},
             {"source": "ffpp_c23", "scores": {"video_face_blend": 0.7}}]
    assert drop_generated_scores(items, ["video_face_blend"]) == 1
    assert items[0]["scores"] == {"video_temporal": 0.4}
    assert items[1]["scores"] == {"video_face_blend": 0.7}


def test_the_shipped_audio_fusion_rests_on_synthesis_not_on_recording_quality():
    # clicks, hiss, hum and clipping are common in authentic recordings from the wild, which
    # the development data lacks: fitted, pops learnt the generated LPC set's clicks and
    # outweighed every synthesis detector (1.43); it now keeps a fixed judgement weight
    shipped = json.loads((Path(__file__).resolve().parents[2] / "resources" / "ensemble.json")
                         .read_text())
    for mod in ("audio", "video"):   # the video fusion inherits the soundtrack's weights
        w = shipped[mod]["weights"]
        synthesis = min(w["spoof_lfcc"], w["oversmoothing"])
        for quality in ("pops", "hiss", "buzz", "clipping"):
            assert w[quality] < synthesis, (mod, quality, w[quality])
    assert shipped["audio"]["fixed_weights"]["pops"] == pytest.approx(0.3)
