"""Tests for training/train_audio_spoof.py's codec copies (--codec-augment) and delivery
channels (--channel-augment, --channel-eval)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from training.train_audio_spoof import (AUG_CHANNELS, AUG_CODECS, EVAL_CHANNELS, apply_channel,
                                        channel_copy, codec_roundtrip)


def _codec_of(key: str) -> tuple[str, int]:
    return AUG_CODECS[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(AUG_CODECS)]


def test_codec_roundtrip_is_deterministic_lossy_and_keeps_the_signal():
    fs = 16000
    t = np.arange(2 * fs) / fs
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.sin(2 * np.pi * 3100 * t)
    keys = [f"utt{i}" for i in range(40)]
    seen = {}
    for k in keys:
        seen.setdefault(_codec_of(k)[0], k)
    assert set(seen) == {c for c, _ in AUG_CODECS}            # every codec is used
    for codec, k in seen.items():
        y = codec_roundtrip(x, k)
        assert np.array_equal(y, codec_roundtrip(x, k))       # deterministic
        assert abs(len(y) - len(x)) < 0.25 * fs, codec         # codec delay/padding only
        n = min(len(x), len(y))
        # aligned by cross-correlation (codecs delay the signal), close but not identical
        lag = int(np.argmax(np.correlate(y[:n], x[: n - 4000], mode="valid")))
        seg = y[lag:lag + n - 4000]
        ref = x[: len(seg)]
        corr = float(np.corrcoef(seg, ref)[0, 1])
        assert corr > 0.95, (codec, corr)
        assert not np.allclose(seg, ref, atol=1e-4), codec


def _snr_db(x: np.ndarray, y: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(x ** 2) / np.sum((y - x) ** 2)))


def test_sample_domain_channels_degrade_by_their_known_amount():
    fs = 16000
    t = np.arange(fs) / fs
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.sin(2 * np.pi * 3100 * t)
    # white noise at a stated SNR: that SNR within 0.2 dB, seeded by the key
    y = apply_channel(x, ("noise", 30.0), "k1")
    assert abs(_snr_db(x, y) - 30.0) < 0.2
    assert np.array_equal(y, apply_channel(x, ("noise", 30.0), "k1"))
    assert not np.array_equal(y, apply_channel(x, ("noise", 30.0), "k2"))
    # 8-bit linear PCM: at most 256 levels, error within half a step
    y8 = apply_channel(x, ("pcm8",), "k1")
    assert len(np.unique(y8)) <= 256
    assert np.max(np.abs(y8 - x)) <= 0.5 / 127.5 + 1e-12
    # mu-law: 255 codes at most; quiet samples keep finer steps than loud ones
    ym = apply_channel(x, ("mulaw8",), "k1")
    assert len(np.unique(ym)) <= 255
    quiet, loud = np.abs(x) < 0.02, np.abs(x) > 0.25
    assert np.max(np.abs(ym - x)[quiet]) < np.max(np.abs(ym - x)[loud])
    assert _snr_db(x, ym) > 25


def test_every_channel_keeps_the_signal_and_channel_copy_is_deterministic():
    fs = 16000
    t = np.arange(2 * fs) / fs
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.sin(2 * np.pi * 3100 * t)
    for spec in [*AUG_CHANNELS, *EVAL_CHANNELS.values()]:
        y = apply_channel(x, spec, "utt")
        assert abs(len(y) - len(x)) < 0.25 * fs, spec
        assert np.isfinite(y).all(), spec
        n = min(len(x), len(y))
        lag = int(np.argmax(np.correlate(y[:n], x[: n - 4000], mode="valid")))
        seg = y[lag:lag + n - 4000]
        assert float(np.corrcoef(seg, x[: len(seg)])[0, 1]) > 0.9, spec
    # the training copy picks a channel by the key, the same one every time
    assert np.array_equal(channel_copy(x, "utt7"), channel_copy(x, "utt7"))
    # no evaluation channel is also a training channel (the figures are on unseen channels)
    assert not set(EVAL_CHANNELS.values()) & set(AUG_CHANNELS)


def test_pooled_gmm_is_the_equal_mixture_of_its_members():
    """--bags: GMMs fitted on different subsamples, pooled as one mixture whose likelihood is
    the mean of the members' likelihoods."""
    from types import SimpleNamespace

    from detectors.audio.spoof_lfcc import DiagGMM
    from training.train_audio_spoof import PooledGMM, to_diag

    rng = np.random.default_rng(0)

    def member(k):
        return SimpleNamespace(weights_=np.full(k, 1.0 / k), means_=rng.normal(0, 1, (k, 3)),
                               covariances_=rng.uniform(0.5, 2.0, (k, 3)))

    a, b = member(2), member(3)
    pooled = PooledGMM([a, b])
    assert pooled.means_.shape == (5, 3) and np.isclose(pooled.weights_.sum(), 1.0)
    x = rng.normal(0, 1, (7, 3))
    la = DiagGMM(a.weights_, a.means_, a.covariances_).loglik(x)
    lb = DiagGMM(b.weights_, b.means_, b.covariances_).loglik(x)
    want = np.log(0.5 * np.exp(la) + 0.5 * np.exp(lb))
    assert np.allclose(to_diag(pooled).loglik(x), want)


def _write_g722(path, x: np.ndarray, fs: int = 16000) -> None:
    import av

    with av.open(str(path), "w", format="g722") as out:
        st = out.add_stream("g722", rate=fs)
        st.layout = "mono"
        frame = av.AudioFrame.from_ndarray((np.clip(x, -1, 1) * 32767).astype(np.int16)[None],
                                           format="s16", layout="mono")
        frame.sample_rate = fs
        for pkt in st.encode(frame):
            out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)


def test_asterisk_prompts_pick_long_prompts_per_voice_and_group_by_speaker(tmp_path):
    from training.train_audio_spoof import asterisk_prompts, read_g722

    fs = 16000
    t = np.arange(3 * fs) / fs
    tone = 0.3 * np.sin(2 * np.pi * 200 * t)
    for voice in ("en_US_f_Allison", "es_MX_f_Allison", "it_IT_m_Carlo"):
        d = tmp_path / voice
        d.mkdir()
        for i in range(5):
            _write_g722(d / f"p{i}.g722", tone)                 # 3 s each
        _write_g722(d / "short.g722", tone[: fs // 2])          # 0.5 s: too short
    (tmp_path / "en").mkdir()                                   # a language folder: ignored
    _write_g722(tmp_path / "en" / "x.g722", tone)
    got = asterisk_prompts(tmp_path, per_voice=3, min_seconds=2.5)
    assert len(got) == 9 and not any("short" in p for p, _ in got)
    assert {g for _, g in got} == {"asterisk_allison", "asterisk_carlo"}   # one group per speaker
    assert got == asterisk_prompts(tmp_path, per_voice=3, min_seconds=2.5)  # deterministic
    x, rate = read_g722(got[0][0])
    assert rate == fs and abs(len(x) - 3 * fs) < 0.05 * fs
    n = min(len(x), len(tone))
    lag = int(np.argmax(np.correlate(x[:n], tone[:n - 400], mode="valid")))
    assert np.corrcoef(x[lag:lag + n - 400], tone[:n - 400])[0, 1] > 0.95  # G.722 round trip
