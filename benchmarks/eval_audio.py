"""Benchmark the audio detectors on the development corpus: AUC/EER per source, speed.

Usage (from the repository root)::

    .venv/bin/python benchmarks/eval_audio.py [--corpus ../shared/corpus]
        [--oof /tmp/spoof_report.json] [--json out.json]

For every audio row of ``manifest.csv`` each audio detector runs once; reported per detector:

- coverage (ok / not applicable / error) and real-time factor (seconds of audio analysed per
  second of compute, over the whole corpus; the first ``--max-seconds`` of each file);
- ROC AUC and EER per subset, as SOURCES.md asks: ``ganpolice`` (1 real LJSpeech clip vs 16
  vocoder clips), ``ganpolice_pair`` (the LJ008-0217 group: 1 real vs its 6 vocoder
  re-syntheses), ``trump`` (Resemblyzer Trump 12 real vs 6 fakes, scored on its own because
  format and duration separate LibriSpeech from everything), and ``all`` (every audio row;
  shortcut-prone, for reference only);
- the share of authentic files (all sources) scored above 0.5 (false alarms).

``spoof_lfcc`` was trained on these very files, so its numbers here are IN-SAMPLE; pass the
JSON report of ``training/train_audio_spoof.py --report`` as ``--oof`` to also print its
out-of-fold (held-out speaker group) AUC/EER on the same subsets.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DETECTOR_MODULES = ("detectors.audio.band_limit", "detectors.audio.spoof_lfcc",
                    "detectors.audio.noise_floor", "detectors.audio.quality",
                    "detectors.audio.prosody")


def load(path: Path, max_seconds: float):
    """AudioMedia via the app's decoder, or via soundfile/PyAV while that is unfinished."""
    from triage_app.media import AudioMedia

    try:
        from triage_app.media import open_media

        m = open_media(path)
        if getattr(m, "kind", "") == "audio":
            n = int(max_seconds * m.sample_rate)
            m.samples = m.samples[:n]
            return m, "open_media"
    except Exception:
        pass
    from detectors.audio._common import read_audio_file

    data, fs = read_audio_file(str(path), max_duration=max_seconds)
    return AudioMedia(path=str(path), format=path.suffix[1:].upper(), samples=data,
                      sample_rate=fs), "fallback"


def eer_auc(labels, scores):
    from sklearn.metrics import roc_auc_score, roc_curve

    labels = np.asarray(labels)
    if len(labels) < 2 or labels.min() == labels.max():
        return float("nan"), float("nan")
    fpr, tpr, _ = roc_curve(labels, scores)
    i = int(np.nanargmin(np.abs(1 - tpr - fpr)))
    return float((fpr[i] + 1 - tpr[i]) / 2), float(roc_auc_score(labels, scores))


def subset_of(path: str) -> list[str]:
    out = ["all"]
    if path.startswith("ganpolice_vocoders/"):
        out.append("ganpolice")
        if "LJ008-0217" in path:
            out.append("ganpolice_pair")
    if "trump_" in path:
        out.append("trump")
    return out


def main(argv=None) -> int:
    import importlib

    ap = argparse.ArgumentParser(description="audio detector benchmark")
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--oof", default="", help="training report JSON with out-of-fold scores")
    ap.add_argument("--json", default="")
    args = ap.parse_args(argv)

    from detectors import registry

    for m in DETECTOR_MODULES:
        importlib.import_module(m)
    specs = [s for s in registry.all_detectors()
             if s.function.__module__ in DETECTOR_MODULES]
    corpus = Path(args.corpus)
    rows = [r for r in csv.DictReader(open(corpus / "manifest.csv")) if r["modality"] == "audio"]
    # warm-up: one-off costs (lazy imports of scipy.signal, model loading) are not per-file
    from triage_app.media import AudioMedia

    rng = np.random.default_rng(0)
    warm = AudioMedia(path="warm-up", format="WAV", sample_rate=16000,
                      samples=(0.1 * rng.standard_normal((3 * 16000, 1))).astype(np.float32))
    for s in specs:
        s.function(warm)
    results: dict[str, list] = {s.name: [] for s in specs}
    runtime = {s.name: 0.0 for s in specs}
    cpu = {s.name: 0.0 for s in specs}
    audio_s = 0.0
    decoders = set()
    for r in rows:
        media, how = load(corpus / r["path"], args.max_seconds)
        decoders.add(how)
        audio_s += media.duration
        label = int(r["label"] == "manipulated")
        for s in specs:
            t0 = time.perf_counter()
            c0 = time.process_time()
            try:
                res = s.function(media)
                status, score = res.status, res.score
            except Exception as exc:  # report, never stop the benchmark
                status, score = f"exception {type(exc).__name__}: {exc}", None
            runtime[s.name] += time.perf_counter() - t0
            cpu[s.name] += time.process_time() - c0
            results[s.name].append((r["path"], label, status, score))
    print(f"{len(rows)} audio files, {audio_s:.0f} s analysed (first {args.max_seconds:.0f} s "
          f"each), decoder: {', '.join(sorted(decoders))}")
    total_rt = sum(runtime.values())
    total_cpu = sum(cpu.values())
    print(f"ALL audio detectors together: {audio_s / total_rt:.0f}x real time by wall clock "
          f"({total_rt / audio_s * 1000:.2f} ms per s of audio), {audio_s / total_cpu:.0f}x by "
          f"process CPU time (wall time is inflated when the machine is shared)\n")
    subsets = ("ganpolice", "ganpolice_pair", "trump", "all")
    hdr = f"{'detector':20s} {'ok/na/err':>10s} {'RTF':>7s} {'RTFcpu':>7s} " + " ".join(
        f"{s + ' AUC/EER':>22s}" for s in subsets) + "  FA@0.5"
    print(hdr)
    out = {"audio_seconds": audio_s, "total_rtf": audio_s / total_rt,
           "total_rtf_cpu": audio_s / total_cpu, "detectors": {}}
    for s in specs:
        rs = results[s.name]
        ok = [x for x in rs if x[2] == "ok"]
        na = sum(x[2] == "not_applicable" for x in rs)
        err = len(rs) - len(ok) - na
        cells, det = [], {"rtf": audio_s / max(runtime[s.name], 1e-9),
                          "rtf_cpu": audio_s / max(cpu[s.name], 1e-9), "ok": len(ok),
                          "na": na, "error": err, "subsets": {}}
        for sub in subsets:
            sel = [x for x in ok if sub in subset_of(x[0])]
            eer, auc = eer_auc([x[1] for x in sel], [x[3] for x in sel])
            n0 = sum(x[1] == 0 for x in sel)
            n1 = len(sel) - n0
            cells.append(f"{auc:5.2f}/{eer:4.2f} ({n0:2d}v{n1:2d})")
            det["subsets"][sub] = {"auc": auc, "eer": eer, "n_real": n0, "n_fake": n1}
        auth = [x for x in ok if x[1] == 0]
        fa = float(np.mean([x[3] > 0.5 for x in auth])) if auth else float("nan")
        det["false_alarm_at_0.5"] = fa
        print(f"{s.name:20s} {len(ok):3d}/{na:2d}/{err:2d}  {det['rtf']:6.0f}x "
              f"{det['rtf_cpu']:6.0f}x " +
              " ".join(f"{c:>22s}" for c in cells) + f"  {fa:5.2f}")
        out["detectors"][s.name] = det
    if args.oof and Path(args.oof).is_file():
        rep = json.loads(Path(args.oof).read_text())
        oof = rep["oof"]
        print("\nspoof_lfcc OUT-OF-FOLD (speaker group held out), corpus files only:")
        for sub in subsets:
            sel = [(r["label"] == "manipulated", oof[r["path"]]) for r in rows
                   if r["path"] in oof and sub in subset_of(r["path"])]
            eer, auc = eer_auc([int(a) for a, _ in sel], [b for _, b in sel])
            print(f"  {sub:16s} AUC={auc:5.3f} EER={eer:5.3f} (n={len(sel)})")
            out.setdefault("spoof_lfcc_oof", {})[sub] = {"auc": auc, "eer": eer}
        print(f"  pooled incl. own re-syntheses: AUC={rep['pooled']['auc']:.3f} "
              f"EER={rep['pooled']['eer']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
