"""Probes: known answers on synthetic media (the artifact put there is found, elsewhere not)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from explainers import probes as P
from explainers.probes import Target
from triage_app.model import Box

from _explainer_synth import SR, audio_media, image_media, scene, speech_like

HERE = Box(180, 60, 100, 80)
THERE = Box(30, 140, 100, 80)


def _box(rgb, b, fn):
    sl = (slice(b.y, b.y + b.h), slice(b.x, b.x + b.w))
    rgb[sl] = fn(rgb[sl])
    return rgb


@pytest.fixture(scope="module")
def noisy():
    rng = np.random.default_rng(5)
    return image_media(_box(scene(), HERE, lambda a: a + rng.normal(0, 10, a.shape)))


def test_noise_probe(noisy):
    r = P.probe_noise(noisy, Target(box=HERE))
    assert r.found is True and r.measurement["ratio"] > 2 and r.measurement["z"] > 3
    r = P.probe_noise(noisy, Target(box=THERE))
    assert r.found is False
    # whole picture: the tile scan finds the outlier tile
    assert P.probe_noise(noisy, Target()).found is True
    assert P.probe_noise(image_media(scene()), Target()).found is False


def test_blur_probe():
    m = image_media(_box(scene(), HERE, lambda a: ndimage.gaussian_filter(a, (2.5, 2.5, 0))))
    assert P.probe_blurriness(m, Target(box=HERE)).found is True
    assert P.probe_blurriness(m, Target(box=THERE)).found is False


def test_blockiness_probe():
    def blocky(a):
        h, w = a.shape[0] // 8 * 8, a.shape[1] // 8 * 8
        b = a.copy()
        blk = a[:h, :w].reshape(h // 8, 8, w // 8, 8, 3).mean(axis=(1, 3))
        b[:h, :w] = np.repeat(np.repeat(blk, 8, axis=0), 8, axis=1)
        return b
    box = Box(176, 56, 104, 88)  # on the 8x8 grid
    m = image_media(_box(scene(), box, blocky))
    r = P.probe_blockiness(m, Target(box=box))
    assert r.found is True, r.reason
    assert P.probe_blockiness(m, Target(box=THERE)).found is False


def test_color_probe():
    m = image_media(_box(scene(), HERE, lambda a: a + np.array([25.0, 0, -15.0])))
    assert P.probe_color_inconsistency(m, Target(box=HERE)).found is True
    assert P.probe_color_inconsistency(m, Target(box=THERE)).found is False


def test_cloned_region_probe():
    rgb = scene(seed=3)
    src = Box(20, 20, 80, 70)
    dst = Box(200, 140, 80, 70)
    rgb[dst.y:dst.y + dst.h, dst.x:dst.x + dst.w] = rgb[src.y:src.y + src.h, src.x:src.x + src.w]
    m = image_media(rgb)
    r = P.probe_cloned_region(m, Target(box=dst))
    assert r.found is True and r.measurement["offset"] == [-180, -120]
    assert P.probe_cloned_region(m, Target(box=src)).found is True
    r = P.probe_cloned_region(m, Target(box=Box(150, 20, 80, 70)))
    assert r.found is False and r.measurement["residual_ratio"] > 1.1


def test_cloned_region_probe_on_flat_noisy_surfaces():
    """Regression (NoSo 07_mod_02): a copy of a nearly flat area (std ~2 levels) was skipped as
    "flat", so a true claim was called hallucinated. Its sensor noise is what a copy repeats:
    an exact copy is found, a different flat place is not a copy, and only a noiseless flat
    area stays unmeasurable."""
    rng = np.random.default_rng(11)
    rgb = np.clip(120 + rng.normal(0, 2.0, (240, 320, 1)) + np.zeros((1, 1, 3)), 0, 255)
    src, dst = Box(30, 30, 70, 60), Box(200, 150, 70, 60)
    rgb[dst.y:dst.y + dst.h, dst.x:dst.x + dst.w] = rgb[src.y:src.y + src.h, src.x:src.x + src.w]
    m = image_media(rgb)
    r = P.probe_cloned_region(m, Target(box=dst))
    assert r.found is True and r.measurement["offset"] == [-170, -120], r.reason
    r = P.probe_cloned_region(m, Target(box=Box(200, 30, 70, 60)))
    assert r.found is False, r.reason
    plain = image_media(np.full((240, 320, 3), 120.0))
    r = P.probe_cloned_region(plain, Target(box=dst))
    assert r.found is None and "noiseless" in r.reason


def test_cloned_region_probe_after_a_jpeg_save(tmp_path):
    """Regression: a clone found by copy_move's JPEG pass in a forgery saved at q75 (NoSo
    07_mod_01) was called hallucinated: the save left both ends with different noise, so the
    noise test failed. On the file's grid the copy still quantizes like its new place."""
    import io

    from PIL import Image

    from triage_app.media import open_media

    rng = np.random.default_rng(8)
    g = np.zeros((256, 320), np.float32)
    for s in (1, 3, 8):
        g += ndimage.gaussian_filter(rng.normal(0, 40, g.shape), s)
    g = np.clip(128 + g, 0, 255).astype(np.uint8)
    src, dst = Box(21, 19, 80, 72), Box(203, 141, 80, 72)
    g[dst.y:dst.y + dst.h, dst.x:dst.x + dst.w] = g[src.y:src.y + src.h, src.x:src.x + src.w]
    path = tmp_path / "clone.jpg"
    Image.fromarray(np.dstack([g] * 3)).save(path, "JPEG", quality=75)
    m = open_media(path)
    q = P._luma_quantization(m)
    assert q is not None and q.shape == (8, 8)
    y = P.to_gray(m.pixels).astype(np.float32)
    # the grid test itself, a patch of the copy against its source found 1 px off
    a = P._requant_agreement(y, q, 223, 161, 32, -182 + 1, -122)
    assert a["agreement"] >= P.REQUANT_AGREE and a["offset"] == [-182, -122], a
    assert a["agreement"] - a["agreement_1px_off"] >= P.REQUANT_MARGIN
    other = P._requant_agreement(y, q, 223, 161, 32, -150, -100)
    assert other["agreement"] < P.REQUANT_AGREE
    assert P.probe_cloned_region(m, Target(box=dst)).found is True
    assert P.probe_cloned_region(m, Target(box=Box(200, 20, 80, 72))).found is False
    # the same pixels without the file: no quantization table, no grid test
    assert P._luma_quantization(image_media(np.asarray(Image.open(path).convert("RGB"),
                                                       float))) is None


@pytest.mark.corpus
def test_cloned_region_probe_grounds_a_noso_clone_saved_as_jpeg(corpus_dir, tmp_path):
    from PIL import Image

    from triage_app.media import open_media

    path = tmp_path / "07_mod_01.jpg"
    Image.open(corpus_dir / "noso_copymove" / "manipulated" / "07_mod_01.png").convert(
        "RGB").save(path, "JPEG", quality=75)
    r = P.probe_cloned_region(open_media(path), Target(box=Box(263, 326, 80, 152)))
    assert r.found is True and "8x8 grid" in r.reason, r.reason


def test_blending_probe():
    rgb = scene(seed=4)
    other = scene(seed=9, sigma=6) + 40
    rgb[HERE.y:HERE.y + HERE.h, HERE.x:HERE.x + HERE.w] = other[:HERE.h, :HERE.w]
    m = image_media(rgb)
    assert P.probe_blending_artifacts(m, Target(box=HERE)).found is True
    assert P.probe_blending_artifacts(m, Target(box=THERE)).found is False


def test_blending_probe_is_undecided_where_nothing_steps():
    """Box and controls all at a median step of 0 (a flat picture; the flat grey frames that a
    seek decoded in FF++ Deepfakes_519_515 before _video_io.seek_primed measured so): the
    probe said "found none" (ratio 0 vs 0), calling the claim hallucinated on nothing."""
    flat = np.full_like(scene(seed=4), 120)
    r = P.probe_blending_artifacts(image_media(flat), Target(box=HERE))
    assert r.found is None and "cannot be told" in r.reason
    assert r.measurement["value"] == 0 and r.measurement["control_median"] == 0


def test_metadata_probes():
    m = image_media(scene(), exif={305: "Adobe Photoshop 25.0"}, xmp='<x xmp:CreatorTool="GIMP 2.10"/>')
    r = P.probe_software_metadata(m, Target(field="EXIF:Software", value="Adobe Photoshop"))
    assert r.found is True and r.measurement["value"] == "Adobe Photoshop 25.0"
    assert P.probe_software_metadata(m, Target(field="EXIF:Software", value="GIMP")).found is False
    assert P.probe_software_metadata(m, Target(field="XMP:CreatorTool")).found is True
    assert P.probe_software_metadata(m, Target(field="EXIF:Artist")).found is False
    assert P.probe_software_metadata(m, Target()).found is True
    assert P.probe_software_metadata(image_media(scene()), Target()).found is False
    assert P.probe_content_credentials(image_media(scene(), raw=b"\x89PNG..."), Target()).found is False
    assert P.probe_content_credentials(
        image_media(scene(), raw=b"....jumb....c2pa.manifest...."), Target()).found is True
    assert P.probe_thumbnail_mismatch(image_media(scene()), Target()).found is False


def test_audio_probes():
    x = speech_like(3.0)
    clipped = x.copy()
    seg = slice(int(1.0 * SR), int(1.5 * SR))
    clipped[seg] = np.clip(clipped[seg] * 8, -0.9, 0.9)
    m = audio_media(clipped)
    assert P.probe_clipping(m, Target(start=1.0, end=1.5)).found is True
    assert P.probe_clipping(m, Target(start=2.2, end=2.8)).found is False

    sil = x.copy()
    sil[int(2.0 * SR):int(2.2 * SR)] = 0.0
    m = audio_media(sil)
    assert P.probe_digital_silence(m, Target(start=1.9, end=2.3)).found is True
    assert P.probe_digital_silence(m, Target(start=0.5, end=1.5)).found is False
    # Regression: inserted silence in a decoded MP3 is tiny floats (here 1e-6), not 0.0; the
    # detector reads it as a 16-bit file would store it (zero) and the probe called its claim
    # hallucinated ("0 runs of exact digital zero").
    rng = np.random.default_rng(3)
    lossy = x.copy()
    lossy[int(2.0 * SR):int(2.2 * SR)] = rng.normal(0, 1e-6, int(0.2 * SR))
    assert P.probe_digital_silence(audio_media(lossy), Target(start=1.9, end=2.3)).found is True
    # a pause 30 dB under the room tone (1e-3 noise), above the 16-bit step: found by level
    quiet = x.copy()
    quiet[int(2.0 * SR):int(2.2 * SR)] = rng.normal(0, 3e-5, int(0.2 * SR))
    r = P.probe_digital_silence(audio_media(quiet), Target(start=1.9, end=2.3))
    assert r.found is True and r.measurement["zero_runs"] == 0
    assert 25 < r.measurement["drop_db"] < 40
    # an ordinary pause at the room tone is not dead air
    t = np.arange(x.size) / SR
    trough = float(t[int(np.argmin(np.abs(x[int(1.5 * SR):int(2.5 * SR)]))) + int(1.5 * SR)])
    r = P.probe_digital_silence(audio_media(x), Target(start=trough - 0.05, end=trough + 0.05))
    assert r.found is False and r.measurement["drop_db"] < 20

    t = np.arange(x.size) / SR
    hum = x + sum(0.01 / k * np.sin(2 * np.pi * 50 * k * t) for k in range(1, 4))
    assert P.probe_buzz(audio_media(hum), Target()).found is True
    assert P.probe_buzz(audio_media(x), Target()).found is False
    # regression: the buzz detector's own band (its harmonic range, 48-402 Hz) was read as "a
    # hum at 225 Hz" and its true claim called hallucinated
    assert P.probe_buzz(audio_media(hum), Target(low_hz=48.0, high_hz=402.0)).found is True
    assert P.probe_buzz(audio_media(x), Target(low_hz=48.0, high_hz=402.0)).found is False

    pops = x.copy()
    for s in (0.7, 1.9):
        pops[int(s * SR)] += 0.6
    assert P.probe_pops(audio_media(pops), Target(start=0.5, end=1.0)).found is True
    assert P.probe_pops(audio_media(x), Target(start=0.5, end=1.0)).found is False

    from scipy import signal
    sos = signal.butter(16, 4000, fs=SR, output="sos")
    rng = np.random.default_rng(2)
    wide = x + rng.normal(0, 0.01, x.size)
    narrow = signal.sosfilt(sos, wide)
    assert P.probe_vocoder_band_limit(audio_media(narrow), Target(low_hz=4500)).found is True
    assert P.probe_vocoder_band_limit(audio_media(wide), Target(low_hz=4500)).found is False
    assert P.probe_vocoder_band_limit(audio_media(narrow), Target()).found is True
    assert P.probe_vocoder_band_limit(audio_media(wide), Target()).found is False

    hiss = x + rng.normal(0, 0.01, x.size)
    assert P.probe_hiss(audio_media(hiss), Target()).found is True
    assert P.probe_hiss(audio_media(x), Target()).found is False

    spl = speech_like(6.0) 
    spl[int(3.0 * SR):] += rng.normal(0, 0.02, spl.size - int(3.0 * SR))
    assert P.probe_audio_splice(audio_media(spl), Target(start=3.0, end=3.0)).found is True
    assert P.probe_audio_splice(audio_media(spl), Target(start=1.5, end=1.5)).found is False


def test_no_probe_for_semantic_artifacts():
    assert P.get_probe("shadow_inconsistency") is None
    assert P.get_probe("anatomical_inconsistency") is None
    assert P.get_probe("noise") is P.probe_noise


def test_probes_do_not_import_detectors():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(P))
    names = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    names += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not any(str(n).startswith("detectors") for n in names)


def test_generator_banding_resampling_probes():
    from PIL import Image

    rgb = scene(480, 640)
    yy, xx = np.mgrid[:480, :640]
    fp = rgb + 3.0 * (((yy + xx) % 2) * 2 - 1)[..., None]  # a 2-px upsampling checkerboard
    assert P.probe_generator_fingerprint(image_media(fp), Target()).found is True
    assert P.probe_generator_fingerprint(image_media(rgb), Target()).found is False

    post = rgb.copy()
    post[100:200, 200:320] = np.round(post[100:200, 200:320] / 12) * 12
    assert P.probe_banding(image_media(post), Target(box=Box(200, 100, 120, 100))).found is True
    assert P.probe_banding(image_media(post), Target(box=Box(20, 300, 120, 100))).found is False

    up = rgb.copy()
    src = np.clip(rgb[100:180, 200:280], 0, 255).astype(np.uint8)
    up[100:220, 200:320] = np.asarray(Image.fromarray(src).resize((120, 120), Image.BILINEAR), float)
    assert P.probe_resampling(image_media(up), Target(box=Box(200, 100, 120, 120))).found is True
    assert P.probe_resampling(image_media(up), Target(box=Box(20, 300, 120, 120))).found is False


def test_double_jpeg_probe(tmp_path):
    from PIL import Image

    from explainers.validator import load_media

    rgb = np.clip(scene(480, 640), 0, 255).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "first.jpg", quality=70)
    Image.open(tmp_path / "first.jpg").save(tmp_path / "double.jpg", quality=90)
    Image.fromarray(rgb).save(tmp_path / "single.jpg", quality=90)
    r = P.probe_double_compression(load_media(tmp_path / "double.jpg"), Target())
    assert r.found is True and r.measurement["dct_histogram_oscillation"] > 0.4
    assert P.probe_double_compression(load_media(tmp_path / "single.jpg"), Target()).found is False
    assert P.probe_double_compression(image_media(scene()), Target()).found is None  # not a JPEG


def test_room_tone_levels_read_in_blocks_equal_the_whole_mix():
    """The digital-silence probe reads a long recording's frame levels a block at a time (an
    hour of stereo was mixed down and squared whole); block edges must not change them."""
    from triage_app.media import AudioMedia

    rng = np.random.default_rng(0)
    st = rng.normal(0, 0.1, (10_007, 2)).astype(np.float32)
    media = AudioMedia(path="x.wav", format="WAV", samples=st, sample_rate=8000)
    whole = P._frames_rms(st.mean(axis=1, dtype=np.float64), 80)
    blocked = P._frames_rms_of(media, 80, block=333)  # blocks of 4 frames, ragged end
    assert blocked.shape == whole.shape == (125,)
    assert np.allclose(blocked, whole, rtol=1e-12)
    assert np.allclose(P._mono_between(media, 5, 9), st[5:9].mean(axis=1))


def test_a_speech_fingerprint_claim_is_unverifiable_and_says_why():
    """An audio generator_fingerprint claim was "could not be measured: no picture to measure";
    on a video's soundtrack band the probe measured the middle frame's pixels instead."""
    from triage_app.media import AudioMedia

    audio = AudioMedia(path="x.wav", format="WAV", samples=np.zeros((16000, 1), np.float32),
                       sample_rate=16000)
    r = P.probe_generator_fingerprint(audio, Target(start=0.0, end=1.0))
    assert r.found is None and "learned model" in r.reason
    banded = P.probe_generator_fingerprint(image_media(np.zeros((64, 64, 3), np.uint8)),
                                           Target(start=0.0, end=1.0, low_hz=0.0, high_hz=8000.0))
    assert banded.found is None and "no independent probe" in banded.reason


def _voice(seconds: float, f0_of_t, seed: int = 0, regular: bool = True) -> np.ndarray:
    """Harmonics of the contour ``f0_of_t(t)`` under a syllable envelope: 4 syllables per
    second like a metronome (``regular``), or of random lengths (0.12-0.4 s) as people speak."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = f0_of_t(t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 25) if k * 180 < SR / 2)
    if regular:
        env = np.clip(np.sin(2 * np.pi * 2 * t), 0, None) ** 0.5
    else:
        env = np.zeros(t.size)
        at = 0
        while at < t.size:
            n = int(rng.uniform(0.12, 0.4) * SR)
            seg = np.sin(np.pi * np.arange(min(n, t.size - at)) / n) ** 0.5
            env[at:at + seg.size] = seg * rng.uniform(0.5, 1.0)
            at += n + int(rng.uniform(0.02, 0.15) * SR)
    return 0.2 * x * env + rng.normal(0, 1e-3, t.size)


def test_yin_f0_known_pitch():
    x = _voice(1.5, lambda t: np.full(t.shape, 150.0))
    f0, rms = P.yin_f0(x, SR)
    voiced = f0[(f0 > 0) & (rms >= 0.1 * rms.max())]
    assert voiced.size > 50
    assert abs(np.median(voiced) - 150.0) < 1.5


def test_prosody_probe_flat_and_varied_voices():
    flat = audio_media(_voice(4.0, lambda t: np.full(t.shape, 120.0)))
    res = P.probe_unnatural_prosody(flat, Target())
    assert res.found is True and res.measurement["f0_sd_semitones"] < 0.5
    # intonation: falls and rises over 4-7 semitones, as read speech does
    varied = audio_media(_voice(4.0, lambda t: 110 * 2 ** ((5 * np.sin(2 * np.pi * 0.4 * t)
                                                              + 2 * np.sin(2 * np.pi * 1.3 * t))
                                                             / 12), regular=False))
    res = P.probe_unnatural_prosody(varied, Target(start=0.5, end=3.5))
    assert res.found is False and res.measurement["f0_sd_semitones"] >= 2.0
    # the same contour on syllables that come like a metronome: the rhythm gives it away
    metronome = audio_media(_voice(4.0, lambda t: 110 * 2 ** (5 * np.sin(2 * np.pi * 0.4 * t)
                                                              / 12)))
    res = P.probe_unnatural_prosody(metronome, Target(start=0.5, end=3.5))
    assert res.found is True and res.measurement["rhythm_autocorr"] >= P.METRONOMIC_AC
    # a point in time: the probe looks at 2 s around it
    res = P.probe_unnatural_prosody(flat, Target(start=2.0, end=2.0))
    assert res.found is True and res.measurement["span"] == [1.0, 3.0]


def test_prosody_probe_cannot_judge_without_a_voice():
    noise = audio_media(np.random.default_rng(0).normal(0, 0.05, 3 * SR))
    assert P.probe_unnatural_prosody(noise, Target()).found is None
    assert P.probe_unnatural_prosody(image_media(scene()), Target()).found is False


def test_prosody_probe_reads_a_long_span_in_blocks():
    x = _voice(50.0, lambda t: np.full(t.shape, 130.0))
    f0, _ = P.yin_f0(x, SR)
    assert f0.size == (int(50 * 8000) - P.YIN_WINDOW - P.YIN_TAU[1]) // P.YIN_HOP + 1
    assert P.probe_unnatural_prosody(audio_media(x), Target()).found is True
