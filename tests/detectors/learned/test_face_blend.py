"""The self-blended face model: patch geometry, network, weight file round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from detectors.learned import _torch
from detectors.learned import face_blend as FB


def test_face_patch_is_centred_on_the_face_box():
    g = np.zeros((200, 240), np.float32)
    g[90:110, 110:130] = 255.0                  # a bright square at the box centre (120, 100)
    p = FB.face_patch(g, (70, 50, 100, 100), side=112, context=1.4)
    assert p.shape == (112, 112)
    ys, xs = np.nonzero(p > 128)
    assert abs(ys.mean() - 55.5) < 1.5 and abs(xs.mean() - 55.5) < 1.5
    assert 14 <= xs.max() - xs.min() + 1 <= 18   # 20 px of a 140 px view on 112 px: 16 px


@pytest.mark.parametrize("grey", [True, False])
def test_network_gives_one_logit_per_patch(grey):
    torch = _torch.torch()
    torch.manual_seed(0)
    net = FB.build_network({**FB.DEFAULT_CONFIG, "channels": [8] * 6, "grey_channel": grey})
    z = FB.patch_logits(net.eval(), np.random.default_rng(0).uniform(0, 255, (5, 112, 112)))
    assert z.shape == (5,) and np.isfinite(z).all()


def test_save_and_load_round_trip_without_pickle(tmp_path):
    torch = _torch.torch()
    torch.manual_seed(1)
    cfg = {**FB.DEFAULT_CONFIG, "channels": [8] * 6, "calibration": {"a": 0.5, "b": -1.0}}
    net = FB.build_network(cfg).eval()
    path, again = tmp_path / "m.safetensors", tmp_path / "m2.safetensors"
    FB.save_model(net, cfg, path, {"note": "test"})
    FB.save_model(net, cfg, again, {"note": "test"})
    assert path.read_bytes()[8:9] == b"{"           # a safetensors JSON header, not a pickle
    assert path.read_bytes() == again.read_bytes()  # the same model gives the same bytes
    loaded, config, sha = FB.load_model(path)
    assert config["calibration"] == {"a": 0.5, "b": -1.0} and len(sha) == 64
    x = np.random.default_rng(2).uniform(0, 255, (3, 112, 112))
    np.testing.assert_allclose(FB.patch_logits(loaded, x), FB.patch_logits(net, x), atol=1e-5)


def test_weights_of_another_architecture_are_refused(tmp_path):
    from safetensors.torch import save_file

    small = {**FB.DEFAULT_CONFIG, "channels": [8] * 6}
    path = tmp_path / "small.safetensors"
    FB.save_model(FB.build_network(small), small, path, {})
    tensors, _ = _torch.load_safetensors(path)
    lying = tmp_path / "lying.safetensors"   # claims the default architecture
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(lying),
              metadata={"config": json.dumps(FB.DEFAULT_CONFIG)})
    with pytest.raises(_torch.LearnedModelError, match="do not match"):
        FB.load_model(lying)


def test_shipped_weights_load_and_carry_their_calibration():
    _, config, sha = FB.load_model()
    assert config["calibration"]["a"] > 0          # a higher logit is more likely blended
    assert len(sha) == 64
    training = json.loads(_torch.load_safetensors(FB.WEIGHTS)[1]["training"])
    assert 0.5 < training["clip_auc_out_of_identity"] <= 1.0
