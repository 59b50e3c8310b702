"""Export of the evidence items, their hashes and the custody actions to CASE/UCO (JSON-LD).

CASE (Cyber-investigation Analysis Standard Expression) builds on UCO (Unified Cyber
Ontology); forensic tools such as Autopsy exchange it. We describe each evidence item as a
``uco-observable:File`` with a ``FileFacet`` and a ``ContentDataFacet`` carrying its hashes,
the investigation as ``case-investigation:Investigation``, and each custody entry as a
``case-investigation:InvestigativeAction`` performed by the examiner on the item.
"""

from __future__ import annotations

from typing import Any

CONTEXT = {
    "kb": "urn:deepfake-triage:kb:",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "uco-vocabulary": "https://ontology.unifiedcyberontology.org/uco/vocabulary/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def _hash(method: str, value: str) -> dict[str, Any]:
    return {"@type": "uco-types:Hash",
            "uco-types:hashMethod": {"@type": "uco-vocabulary:HashNameVocab", "@value": method},
            "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": value.upper()}}


def to_case_uco(data: dict[str, Any]) -> dict[str, Any]:
    """The report dictionary (``content.build_report_data``) as a CASE/UCO JSON-LD graph."""
    case = data["case"]
    graph: list[dict[str, Any]] = []
    tool_id = f"kb:tool-deepfake-triage-{data['tool']['version']}"
    graph.append({"@id": tool_id, "@type": "uco-tool:AnalyticTool",
                  "uco-core:name": data["tool"]["name"], "uco-tool:version": data["tool"]["version"]})
    performers: dict[str, str] = {}

    def performer(actor: str) -> str:
        if actor not in performers:
            pid = f"kb:identity-{len(performers) + 1}"
            performers[actor] = pid
            graph.append({"@id": pid, "@type": "uco-identity:Identity", "uco-core:name": actor})
        return performers[actor]

    file_ids = []
    for it in data["items"]:
        fid = f"kb:file-{it['sha256']}"
        file_ids.append(fid)
        hashes = [_hash("SHA256", it["sha256"])]
        if it.get("md5"):
            hashes.append(_hash("MD5", it["md5"]))
        graph.append({
            "@id": fid, "@type": "uco-observable:File",
            "uco-core:hasFacet": [
                {"@type": "uco-observable:FileFacet", "uco-observable:fileName": it.get("name"),
                 "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": it.get("size")}},
                {"@type": "uco-observable:ContentDataFacet", "uco-observable:hash": hashes},
            ],
        })
        for e in it.get("custody", []):
            graph.append({
                "@id": f"kb:custody-{e['seq']}",
                "@type": "case-investigation:InvestigativeAction",
                "uco-core:name": e["action"],
                "uco-action:startTime": {"@type": "xsd:dateTime", "@value": e["time"]},
                "uco-action:performer": {"@id": performer(e["actor"])},
                "uco-action:instrument": {"@id": tool_id},
                "uco-action:object": [{"@id": fid}],
                "uco-core:description": f"custody entry #{e['seq']} hash {e['hash']}",
            })
    graph.insert(0, {
        "@id": f"kb:investigation-{case['id']}", "@type": "case-investigation:Investigation",
        "uco-core:name": case.get("title") or case["id"],
        "case-investigation:focus": "media authenticity",
        "uco-core:object": [{"@id": f} for f in file_ids],
        "uco-core:description": f"Deepfake Triage report {data['report_id']}",
    })
    return {"@context": CONTEXT, "@graph": graph}
