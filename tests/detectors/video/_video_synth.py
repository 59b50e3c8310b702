"""Synthetic talking-face clips for the video detector tests.

A real face photo (``grace_hopper.jpg`` from the corpus' matplotlib package, public domain) is
animated: a slow sinusoidal translation and scale, mild sensor-like noise, optionally a dark
mouth opening whose height follows an envelope, eye closures (blinks), or a face-only
brightness flicker. The Haar face detector needs real face imagery, so these tests skip when
the corpus is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FPS = 25.0
#: Geometry of the face in the half-size photo (256 x 300): Haar box, eyes, mouth.
FACE_BOX = (77, 52, 111, 111)
EYES = ((111, 97), (151, 97))
MOUTH = (130, 154)


@pytest.fixture(scope="session")
def face_photo(corpus_dir: Path) -> np.ndarray:
    """Grace Hopper at half size, RGB uint8 (300, 256, 3); skips without the corpus."""
    import cv2

    p = corpus_dir / "pkg" / "pypi_matplotlib" / "grace_hopper.jpg"
    if not p.is_file():
        pytest.skip("grace_hopper.jpg not in the corpus")
    im = cv2.imread(str(p))[..., ::-1]
    return np.ascontiguousarray(cv2.resize(im, (256, 300), interpolation=cv2.INTER_AREA))


def syllable_envelope(n: int, fps: float = FPS, seed: int = 0) -> np.ndarray:
    """A speech-like 0..1 envelope per frame: syllables of 120-300 ms at 3-5 Hz with pauses."""
    rng = np.random.default_rng(seed)
    env = np.zeros(n)
    i = int(0.3 * fps)
    while i < n - 10:
        if rng.random() < 0.15:
            i += int(rng.uniform(0.3, 0.6) * fps)
            continue
        d = int(rng.uniform(0.12, 0.3) * fps)
        seg = np.sin(np.linspace(0, np.pi, d)) * rng.uniform(0.6, 1.0)
        env[i:i + d] = np.maximum(env[i:i + d], seg[: len(env[i:i + d])])
        i += d + int(rng.uniform(0.02, 0.12) * fps)
    return env


def animate(photo: np.ndarray, n: int, *, mouth_env: np.ndarray | None = None,
            blink_frames: set[int] = frozenset(), flicker: np.ndarray | None = None,
            global_gain: np.ndarray | None = None, seed: int = 1) -> list[np.ndarray]:
    """``n`` frames of the photo moving slowly (+-3 px, 1 +- 1.5 %), with optional mouth
    opening (height 10 px x envelope), closed eyes at ``blink_frames``, a face-only gain
    ``flicker[i]`` and a whole-frame gain ``global_gain[i]``."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = photo.shape[:2]
    skin = photo[118:126, 95:105].reshape(-1, 3).mean(axis=0)
    fx, fy, fw, fh = FACE_BOX
    yy, xx = np.mgrid[0:h, 0:w]
    face_mask = (((xx - (fx + fw / 2)) / (fw * 0.45)) ** 2 +
                 ((yy - (fy + fh / 2)) / (fh * 0.55)) ** 2) < 1.0
    soft = cv2.GaussianBlur(face_mask.astype(np.float32), (0, 0), 3)[..., None]
    # sensor-like noise from a bank of 12 frames (generating fresh noise dominated the time)
    bank = rng.standard_normal((12, h, w, 3), dtype=np.float32) * 2.0
    frames = []
    for i in range(n):
        img = photo.astype(np.float32).copy()
        if mouth_env is not None and mouth_env[i] > 0.02:
            cv2.ellipse(img, MOUTH, (13, max(1, int(round(6 * mouth_env[i])))), 0, 0, 360,
                        (40, 20, 25), -1, lineType=cv2.LINE_AA)
        if i in blink_frames:
            for ex, ey in EYES:
                cv2.ellipse(img, (ex, ey), (11, 6), 0, 0, 360, tuple(float(c) for c in skin),
                            -1, lineType=cv2.LINE_AA)
        if flicker is not None:
            img = img * (1 + (flicker[i] - 1) * soft)
        t = i / FPS
        s = 1 + 0.015 * np.sin(2 * np.pi * 0.2 * t)
        dx, dy = 3 * np.sin(2 * np.pi * 0.3 * t), 2 * np.sin(2 * np.pi * 0.23 * t + 1)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), 0, s)
        m[:, 2] += (dx, dy)
        img = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        if global_gain is not None:
            img = img * global_gain[i]
        img += bank[(i * 5) % len(bank)]
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return frames


def speech_audio(env_frames: np.ndarray, *, shift_s: float = 0.0, drift: float = 0.0,
                 sr: int = 16000, seed: int = 2) -> np.ndarray:
    """A voiced buzz (140 Hz harmonics) whose amplitude follows the per-frame envelope, shifted
    by ``shift_s + drift * t`` (positive: audio later), plus a -60 dBFS noise floor."""
    rng = np.random.default_rng(seed)
    n = int(len(env_frames) / FPS * sr)
    t = np.arange(n) / sr
    env = np.interp(t - shift_s - drift * t, np.arange(len(env_frames)) / FPS, env_frames,
                    left=0, right=0)
    src = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12))
    return (0.25 * env * src / 3 + 0.001 * rng.standard_normal(n)).astype(np.float32)


@pytest.fixture
def clip(tmp_path):
    """``clip(name, frames, audio=None)`` writes an MP4 and opens it as VideoMedia."""
    from media_factory import make_video

    from triage_app.media import open_media

    def make(name: str, frames, audio=None, **kw):
        p = make_video(tmp_path / name, frames, FPS, audio, **kw)
        return open_media(p)

    return make


N_FRAMES = 200  # 8 s at 25 fps


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("video")


def _open(path: Path, frames, audio=None, **kw):
    from media_factory import make_video

    from triage_app.media import open_media

    return open_media(make_video(path, frames, FPS, audio, **kw))


@pytest.fixture(scope="session")
def plain_face(face_photo, video_dir):
    """8 s of the slowly moving face, no blinks, no audio (its pass is shared by modules)."""
    return _open(video_dir / "plain.mp4", animate(face_photo, N_FRAMES))


@pytest.fixture(scope="session")
def no_face(video_dir):
    """6 s of a moving random texture: no face anywhere."""
    rng = np.random.default_rng(5)
    tex = (rng.random((200, 260)) * 255).astype(np.float32)
    import cv2

    tex = cv2.GaussianBlur(tex, (0, 0), 2)
    tex = (tex - tex.min()) / (np.ptp(tex) + 1e-9) * 255
    frames = []
    for i in range(150):
        g = np.roll(tex, (i // 2, i), axis=(0, 1))[:144, :192]
        frames.append(np.repeat(g[..., None], 3, axis=2).astype(np.uint8))
    return _open(video_dir / "noface.mp4", frames)
