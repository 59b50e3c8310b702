"""Render the report dictionary (see ``content.py``) as a PDF with reportlab.

Fonts are TrueType (Bitstream Vera, shipped inside reportlab) and therefore embedded; all text
is real text, selectable and searchable. Every page carries the report id and "page N of M".
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (Image as RLImage, KeepTogether, PageBreak, Paragraph,
                                SimpleDocTemplate, Spacer, Table, TableStyle)
from xml.sax.saxutils import escape

FONT, FONT_BOLD, FONT_ITALIC = "Vera", "VeraBd", "VeraIt"
STATUS_COLOURS = {"grounded": "#2a9d8f", "hallucinated": "#d62828", "unverifiable": "#6c757d",
                  "unchecked": "#6c757d"}
VERDICT_TEXT = {"likely_manipulated": "Likely manipulated", "likely_authentic": "Likely authentic",
                "inconclusive": "Inconclusive"}


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    import reportlab

    base = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(base / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(base / "VeraBd.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_ITALIC, str(base / "VeraIt.ttf")))
    pdfmetrics.registerFont(TTFont("VeraBI", str(base / "VeraBI.ttf")))
    from reportlab.pdfbase.pdfmetrics import registerFontFamily

    registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic="VeraBI")


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, alignment=TA_LEFT)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "mono": ParagraphStyle("mono", parent=base, fontSize=7.5, leading=9.5),
        "h1": ParagraphStyle("h1", parent=base, fontName=FONT_BOLD, fontSize=18, leading=23,
                             spaceAfter=8),
        "h2": ParagraphStyle("h2", parent=base, fontName=FONT_BOLD, fontSize=13, leading=17,
                             spaceBefore=8, spaceAfter=5),
        "h3": ParagraphStyle("h3", parent=base, fontName=FONT_BOLD, fontSize=10.5, leading=14,
                             spaceBefore=6, spaceAfter=3),
        "caption": ParagraphStyle("caption", parent=base, fontName=FONT_ITALIC, fontSize=7.5,
                                  leading=9.5, textColor=colors.HexColor("#444444")),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def _table(rows: list[list[Any]], widths: list[float], st: dict[str, ParagraphStyle], *,
           header: bool = True, style: str = "small") -> Table:
    data = [[c if isinstance(c, Paragraph) else _p(c, st[style]) for c in r] for r in rows]
    t = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    cmds = [("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
    if header:
        cmds.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")))
    t.setStyle(TableStyle(cmds))
    return t


def _fmt_p(p: Any) -> str:
    """A probability to two decimals; near-certain ones as bounds, so that 0.9993 is not
    printed as a certainty ("1.00")."""
    if p is None:
        return "-"
    p = float(p)
    if p >= 0.995:
        return "> 0.99"
    if p <= 0.005:
        return "< 0.01"
    return f"{p:.2f}"


def _fmt_logodds(v: Any) -> str:
    """Signed log-odds to two decimals; a value that rounds to zero is 0.00, not -0.00."""
    if v is None:
        return "-"
    v = float(v)
    return "0.00" if abs(v) < 0.005 else f"{v:+.2f}"


#: How to read the numbers and tags of an item page (printed on the cover).
READING_GUIDE = [
    ("Probability", "the fused estimate that the item was manipulated. 'Inconclusive' means "
                    "the evidence was too weak either way, or the detectors that could judge "
                    "the item hold too little of the fusion's weight."),
    ("Score", "one detector's own calibrated probability of manipulation, from its "
              "measurement alone."),
    ("Contribution", "what that detector adds to the fused log-odds (natural logarithm of the "
                     "odds; positive pushes towards manipulated, 0 adds nothing). The fused "
                     "log-odds are the baseline plus the sum of the contributions; the "
                     "probability is 1 / (1 + exp(-log-odds))."),
    ("Baseline", "the fusion's log-odds before any evidence: its fitted bias."),
    ("Findings", "every finding of every detector, numbered; the same numbers label the boxes "
                 "and spans of the figures."),
    ("grounded", "an independent probe, which does not use the detector's code, re-measured "
                 "the artifact at the place the sentence names."),
    ("hallucinated", "the probe looked at that place and did not find the artifact, or the "
                     "sentence names something the item does not contain (a face where none "
                     "is, a time past the end). Such a finding is drawn dashed on the figures. "
                     "The verdict is fused from the detectors' scores and is not recomputed "
                     "without it: the item page names any detector that raised the verdict "
                     "and whose finding was not confirmed."),
    ("unverifiable", "no probe can re-measure this artifact (a learned model's reading, or a "
                     "matter of a person's judgement): the sentence rests on its detector "
                     "alone."),
]


def _pil_flowable(img: Any, max_w: float, max_h: float = 110 * mm) -> RLImage:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    buf.seek(0)
    w, h = img.size
    scale = min(max_w / w, max_h / h)
    return RLImage(buf, width=w * scale, height=h * scale)


def _make_canvas(report_id: str, sidecar_sha: str) -> type:
    class NumberedCanvas(rl_canvas.Canvas):
        """Defers page output so that every page can say "page N of M"."""

        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            self._saved: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab API)
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            self.saveState()
            self.setFont(FONT, 7.5)
            self.setFillColor(colors.HexColor("#555555"))
            w, _ = A4
            self.drawString(15 * mm, 10 * mm, f"Deepfake Triage evidence report {report_id}")
            self.drawRightString(w - 15 * mm, 10 * mm, f"page {self._pageNumber} of {total}")
            self.drawString(15 * mm, 6.5 * mm, f"JSON sidecar SHA-256 {sidecar_sha}")
            self.restoreState()

    return NumberedCanvas


def render_pdf(data: dict[str, Any], out: Path, *, sidecar_sha256: str,
               figures: dict[str, list[tuple[str, Any]]]) -> None:
    """Write the PDF for report ``data``; ``figures`` maps an item's SHA-256 to its pictures."""
    _register_fonts()
    st = _styles()
    width = A4[0] - 30 * mm
    doc = SimpleDocTemplate(str(out), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=18 * mm,
                            title=f"Evidence report {data['report_id']}",
                            author=data["case"].get("examiner") or "",
                            subject=f"sidecar-sha256:{sidecar_sha256}",
                            keywords=f"report-id:{data['report_id']}",
                            creator=f"Deepfake Triage {data['tool']['version']}")
    story: list[Any] = []
    case = data["case"]

    # -- cover
    story += [Spacer(1, 25 * mm), _p("Evidence report", st["h1"]),
              _p(case.get("title") or case.get("id"), st["h2"]), Spacer(1, 6 * mm)]
    cover = [["Report id", data["report_id"]], ["Case id", case.get("id")],
             ["Case folder", case.get("path")], ["Examiner", case.get("examiner")],
             ["Organization", case.get("organization") or "-"],
             ["Created (UTC)", data["created_utc"]],
             ["Tool", f"{data['tool']['name']} {data['tool']['version']}"],
             ["Items", str(len(data["items"]))],
             ["Custody log head", "-" if not data.get("custody_head") else
              f"entry #{data['custody_head']['seq']}, hash {data['custody_head']['hash']}"],
             ["JSON sidecar SHA-256", sidecar_sha256]]
    story.append(_table(cover, [45 * mm, width - 45 * mm], st, header=False, style="body"))
    story += [Spacer(1, 6 * mm), _p(
        "This report lists each examined item with its hashes, sources and intake time, the "
        "automated analysis (detectors, scores and findings), the explanation with each "
        "sentence's validation status, rationales checked by the examiner, the examiner's "
        "decision, and the chain-of-custody entries. Probabilities are the tool's estimate that "
        "an item was manipulated; 'Inconclusive' means the evidence was too weak either way. "
        "The machine-readable JSON sidecar carries everything this report prints, and more "
        "(each finding's full measurement, each detector's run time); its SHA-256 is printed "
        "on every page.", st["body"])]
    story += [Spacer(1, 4 * mm), _p("How to read an item page", st["h3"])]
    story.append(_table([[term, text] for term, text in READING_GUIDE],
                        [28 * mm, width - 28 * mm], st, header=False))
    fv = data.get("fusion_validation") or {}
    if fv:
        story += [Spacer(1, 4 * mm), _p("How well the fused probability did on items it was not "
                                        "fitted on", st["h3"])]
        rows = [["Modality", "Items", "ROC AUC", "Calibration error (ECE)", "Brier score"]]
        for mod in ("image", "video", "audio"):
            if mod in fv:
                f = fv[mod]
                ece = "-" if f.get("ece") is None else f"{f['ece']:.3f}"
                if f.get("ece_mean") is not None and f.get("assignments"):
                    ece += f" ({f['ece_mean']:.3f} over {f['assignments']} fold assignments)"
                rows.append([mod, str(f.get("n") or "-"),
                             "-" if f.get("auc") is None else f"{f['auc']:.3f}", ece,
                             "-" if f.get("brier") is None else f"{f['brier']:.3f}"])
        story.append(_table(rows, [25 * mm, 18 * mm, 22 * mm, 45 * mm, width - 110 * mm], st))
        story.append(_p("Grouped cross-validation on the development media when the fusion "
                        "was fitted (every item of one scene, speaker or source held out "
                        "together). AUC 0.5 is chance, 1.0 perfect ranking; ECE is the mean "
                        "gap between the stated probability and the observed share of "
                        "manipulated items. A modality with a low AUC gives weak verdicts: "
                        "read its findings, not its probability.", st["caption"]))

    # -- summary
    story += [PageBreak(), _p("Summary", st["h2"])]
    rows = [["#", "Item", "Modality", "Verdict", "P(manip.)", "Examiner decision"]]
    for i, it in enumerate(data["items"], 1):
        v = it.get("verdict") or {}
        rows.append([str(i), it.get("name"), it.get("kind") or "-",
                     VERDICT_TEXT.get(v.get("label"), "error" if it.get("error") else "-"),
                     _fmt_p(v.get("probability")), (it.get("decision") or {}).get("label", "-")
                     if isinstance(it.get("decision"), dict) else (it.get("decision") or "-")])
    story.append(_table(rows, [8 * mm, 62 * mm, 20 * mm, 32 * mm, 18 * mm, width - 140 * mm], st))

    # -- items
    for i, it in enumerate(data["items"], 1):
        story += [PageBreak(), _p(f"Item {i}: {it.get('name')}", st["h2"])]
        facts = [["SHA-256", it["sha256"]], ["MD5", it.get("md5")],
                 ["Size", f"{it.get('size'):,} bytes" if it.get("size") is not None else "-"],
                 ["Format", f"{it.get('kind') or '-'} / {it.get('format') or '-'}"],
                 ["Intake (UTC)", it.get("added_at")]]
        # what opening the file revealed (a name that lies about the format, a display
        # rotation, rebuilt timestamps, a truncated stream): facts about the evidence itself
        for note in (it.get("media") or {}).get("notes") or []:
            facts.append(["Media note", str(note)])
        for s in it.get("sources", []):
            facts.append(["Source", f"{s.get('path')} (mtime {s.get('mtime') or '-'}, "
                                    f"added {s.get('added_at') or '-'} by {s.get('actor') or '-'})"])
        if it.get("error"):
            facts.append(["Analysis error", it["error"]])
        v = it.get("verdict")
        if v:
            facts.append(["Verdict", f"{VERDICT_TEXT.get(v['label'], v['label'])}, probability "
                                     f"{_fmt_p(v.get('probability'))} ({v.get('method', '')})"])
            fv_mod = (data.get("fusion_validation") or {}).get(it.get("kind") or "")
            if fv_mod and fv_mod.get("auc") is not None:
                facts.append(["Fusion, held out", f"ROC AUC {fv_mod['auc']:.3f}, calibration "
                              f"error {fv_mod.get('ece') or 0:.3f}"
                              + (f" ({fv_mod['ece_mean']:.3f} over {fv_mod['assignments']} "
                                 f"fold assignments)" if fv_mod.get("ece_mean") is not None
                                 and fv_mod.get("assignments") else "")
                              + f" over {fv_mod.get('n')} {it.get('kind')} items it was not "
                                f"fitted on"])
            caution = _unconfirmed_drivers(it)
            if caution:
                facts.append(["Caution", caution])
        story.append(_table(facts, [32 * mm, width - 32 * mm], st, header=False))
        for caption, fig in figures.get(it["sha256"], []):
            story += [Spacer(1, 3 * mm), _pil_flowable(fig, width), _p(caption, st["caption"])]
        if it.get("detectors"):
            story.append(_p("Detectors", st["h3"]))
            rows = [["Detector", "Version", "Status", "Score", "Contribution", "Parameters / reason"]]
            for d in it["detectors"]:
                params = ", ".join(f"{k}={v}" for k, v in (d.get("params") or {}).items()
                                   if not isinstance(v, (dict, list)))
                rows.append([d["name"], d["version"], d["status"], _fmt_p(d.get("score")),
                             _fmt_logodds(d.get("contribution")),
                             (d.get("reason") + ". " if d.get("reason") else "")
                             + (d["segments"] + ". " if d.get("segments") else "") + params])
            if v and v.get("baseline") is not None and v.get("probability") is not None:
                total = sum(float(d["contribution"]) for d in it["detectors"]
                            if d.get("contribution") is not None)
                scale = float(v.get("scale") or 1.0)
                logodds = scale * total + float(v["baseline"])
                rows.append(["Fusion baseline", "", "", "", _fmt_logodds(v["baseline"]),
                             "the fusion's log-odds before any evidence (fitted bias)"])
                rows.append(["Fused log-odds", "", "", _fmt_p(v["probability"]),
                             _fmt_logodds(logodds),
                             ("baseline + sum of the contributions" if scale == 1.0 else
                              f"baseline + {scale:g} x the sum of the contributions")
                             + f"; probability = 1 / (1 + exp(-({logodds:.2f})))"])
            story.append(_table(rows, [38 * mm, 13 * mm, 22 * mm, 12 * mm, 20 * mm,
                                       width - 105 * mm], st))
        if it.get("findings"):
            story.extend(_findings_block(it, st, width))
        story.append(_p("Explanation", st["h3"]))
        story.extend(_claims_block(it.get("explanation", []), st) or
                     [_p("No explanation (the item was not analysed).", st["body"])])
        for r in it.get("rationales", []):
            story.append(_p(f"Rationale checked by {r.get('actor') or 'the examiner'} "
                            f"({r.get('time') or ''})", st["h3"]))
            story.append(_p(f"\u201c{r.get('text', '')}\u201d", st["caption"]))
            story.extend(_claims_block(r.get("claims", []), st))
        story.append(_p("Examiner decision and notes", st["h3"]))
        decisions = it.get("decisions") or ([it["decision"]] if it.get("decision") else [])
        if not decisions and not it.get("notes"):
            story.append(_p("No decision recorded.", st["body"]))
        for d in decisions:
            if isinstance(d, dict):
                story.append(_p(f"{d.get('time', '')}  {d.get('actor', '')}: {d.get('label', '')}"
                                f"{' - ' + d['note'] if d.get('note') else ''}", st["body"]))
            else:
                story.append(_p(str(d), st["body"]))
        for n in it.get("notes", []):
            story.append(_p(f"Note ({n.get('time', '')}, {n.get('actor', '')}): {n.get('text', '')}",
                            st["body"]))
        if it.get("custody"):
            story.append(_p("Chain of custody for this item", st["h3"]))
            rows = [["#", "Time (UTC)", "Actor", "Action", "Entry hash"]]
            for e in it["custody"]:
                rows.append([str(e["seq"]), e["time"], e["actor"], e["action"], e["hash"]])
            story.append(_table(rows, [10 * mm, 36 * mm, 38 * mm, 30 * mm, width - 114 * mm],
                                st, style="mono"))

    # -- methods
    story += [PageBreak(), _p("Appendix: methods", st["h2"]),
              _p("Each detector that can run in this build, the method it implements, its "
                 "reference and known limits, and the SHA-256 of every weight file it loads.",
                 st["body"]), Spacer(1, 3 * mm)]
    for m in data.get("methods", []):
        block = [_p(f"{m['name']} {m['version']} ({', '.join(m.get('modalities', []))})", st["h3"]),
                 _p(m.get("method") or "", st["body"])]
        if m.get("reference"):
            block.append(_p(f"Reference: {m['reference']}", st["small"]))
        if m.get("limits"):
            block.append(_p(f"Known limits: {m['limits']}", st["small"]))
        for wf in m.get("weight_files", []):
            block.append(_p(f"Weights: {Path(wf['path']).name} SHA-256 {wf['sha256']}", st["small"]))
        if m.get("load_error"):
            block.append(_p(f"Not available: {m['load_error']}", st["small"]))
        story.append(KeepTogether(block))
    doc.build(story, canvasmaker=_make_canvas(data["report_id"], sidecar_sha256))


#: At most this many findings are listed per item (the strongest); the sidecar has them all.
MAX_FINDING_ROWS = 60


def _unconfirmed_drivers(item: dict[str, Any]) -> str:
    """A sentence naming the detectors that raised the verdict although the probe did not
    confirm a finding of theirs that the explanation says ('' when there is none)."""
    contrib = {d["name"]: d.get("contribution") for d in item.get("detectors", [])}
    refuted = sorted({f["detector"] for f in item.get("findings", [])
                      if f.get("explanation_status") == "hallucinated"
                      and (contrib.get(f["detector"]) or 0.0) > 0.005})
    if not refuted:
        return ""
    parts = [f"{name} ({_fmt_logodds(contrib[name])})" for name in refuted]
    return ("the independent probe did not confirm a finding of " + ", ".join(parts)
            + ", which raised this verdict by the log-odds shown; weigh the verdict without it "
              "(Findings, 'hallucinated').")


def _findings_block(item: dict[str, Any], st: dict[str, ParagraphStyle], width: float) -> list[Any]:
    from explainers.rationale import describe_location, describe_measurement
    from explainers.taxonomy import artifact_name
    from triage_app.model import Measurement, location_from_dict

    findings = item["findings"]
    media = item.get("media") or {}
    shown = sorted(sorted(findings, key=lambda f: -float(f.get("strength") or 0))[:MAX_FINDING_ROWS],
                   key=lambda f: f.get("n", 0))
    title = f"Findings ({len(findings)})" + (
        f": the {len(shown)} strongest; all are in the sidecar" if len(shown) < len(findings) else "")
    rows = [["#", "Artifact", "Detector", "Where", "Measurement", "Strength", "Explanation"]]
    for f in shown:
        try:
            where = describe_location(location_from_dict(f.get("location")), f.get("region"),
                                      width=media.get("width"), height=media.get("height"))
        except (KeyError, TypeError, ValueError):
            where = str(f.get("location"))
        try:
            meas = describe_measurement(Measurement(**f["measurement"]))
        except (KeyError, TypeError):
            meas = str(f.get("measurement"))
        status = f.get("explanation_status")
        cell = (Paragraph(f"<font color='{STATUS_COLOURS.get(status, '#6c757d')}'><b>{status}</b>"
                          "</font>", st["small"]) if status else "not said")
        rows.append([str(f.get("n", "")), artifact_name(f["artifact"], item.get("kind")),
                     f["detector"], where or "-", meas, f"{float(f.get('strength') or 0):.2f}",
                     cell])
    return [_p(title, st["h3"]),
            _table(rows, [7 * mm, 26 * mm, 24 * mm, 37 * mm, width - 133 * mm, 15 * mm, 24 * mm],
                   st),
            _p("'not said': the explanation below does not name this finding (weaker than its "
               "threshold, or from a detector that did not back the verdict).", st["caption"])]


def _claims_block(claims: list[dict[str, Any]], st: dict[str, ParagraphStyle]) -> list[Any]:
    out = []
    for c in claims:
        status = c.get("status") or "unchecked"
        colour = STATUS_COLOURS.get(status, "#6c757d")
        reason = f" <font size=7 color='#555555'>({escape(c['reason'])})</font>" if c.get("reason") else ""
        text = escape(c.get("text") or "")
        out.append(Paragraph(f"<font color='{colour}'><b>[{status}]</b></font> {text}{reason}",
                             st["body"]))
    return out
