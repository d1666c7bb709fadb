"""FHIR R4 export and import of a pain map (DESIGN.md section 4) as a Bundle.

`to_bundle(painmap, pdf=..., when=...)` builds a Bundle (type collection) with the resources of
the `fhir.resources` library (its R4B module, FHIR 4.3.0: R4B changed medication-definition and
subscription resources, not the Bundle, Patient, Questionnaire, QuestionnaireResponse, Observation
or DocumentReference used here, so the Bundle declares R4, 4.0.1; no release of the library on
pydantic 2 ships an R4 4.0.1 module). Every resource is built and validated by the library's models:

* a Patient with no name or identifier (only the gender, when the map has a sex);
* the Questionnaire the answers answer, generated from vocabulary.yaml (one question per answer
  list, a repeating group for the painted regions; every answer a Coding in a hipviz CodeSystem);
* the QuestionnaireResponse: every field of the map except the per-vertex paint;
* one Observation per painted region, shaped after the HL7 Symptoms IG SymptomObservation:
  category symptom, code LOINC 75325-1 Symptom, value SNOMED CT 22253000 Pain, the body site as
  SNOMED CT with laterality (qualifier 272741003) plus the exact hipviz region, and the pain
  severity as a component (LOINC 72514-3, 0-10);
* one Observation for the pain as a whole carrying the pain qualities (components LOINC 56823-8),
  with the region Observations as members;
* the PDF summary as a DocumentReference (base64 attachment), when given.

The code tables (region -> SNOMED CT, laterality, qualities) live in fhir_codes.yaml with where
each code was confirmed; codes not confirmed are exported with the extension `code-confirmed` =
false on their Coding, and every CodeableConcept carries a plain-text label.

`from_bundle_json(bytes)` reads such a Bundle back into the same `PainMap` (without vertex paint).
It rejects, with a `FhirError` naming the problem: oversize input, text that is not UTF-8 JSON,
NaN or infinite numbers, duplicate keys, a resource that is not a Bundle, a Bundle for another
FHIR version or a newer hipviz format, anything the library's models reject, unknown questions or
codes, and Observations that disagree with the answers. Nothing is half-loaded.

Domain code: imports no UI; the PDF is rendered (lazily, through hipviz.report) only when asked.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import math
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hipviz.painmap import FORMAT, VERSION, PainMap, PainMapError
from hipviz.vocabulary import SIDES, vocabulary

__all__ = [
    "FHIR_VERSION", "FORMAT_VERSION", "MAX_BUNDLE_BYTES", "FhirError", "CodeTables", "code_tables",
    "questionnaire", "to_bundle", "bundle_json_bytes", "write_bundle", "from_bundle", "from_bundle_json",
    "read_bundle", "write_painmap",
]

#: The FHIR version the Bundle declares (a meta.tag in http://hl7.org/fhir/FHIR-version).
FHIR_VERSION = "4.0.1"
#: FHIR versions an import accepts: R4 (4.0.x) and R4B (4.3.x), whose resources used here are the same.
ACCEPTED_FHIR_VERSIONS = re.compile(r"^4\.(0|3)(\.\d+)?$")
#: Version of the hipviz Bundle layout (and of the Questionnaire); tied to the pain map version.
FORMAT_VERSION = VERSION
#: Bundles larger than this are refused before parsing (a one-page PDF is under 1 MB).
MAX_BUNDLE_BYTES = 32 * 1024 * 1024

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
GENDER = "http://hl7.org/fhir/administrative-gender"
FHIR_VERSION_SYSTEM = "http://hl7.org/fhir/FHIR-version"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
_NS = uuid.UUID("6d1c3b5e-3f7a-5e0b-9a49-2f3f0c9b1a11")  # namespace for deterministic entry ids

# The answer lists of the map, in order: field -> (CodeSystem name, vocabulary attribute, question).
_LISTS = {
    "qualities": ("hipviz-quality", "qualities", "What does the pain feel like?"),
    "aggravators": ("hipviz-aggravator", "aggravators", "What makes it worse?"),
    "relievers": ("hipviz-reliever", "relievers", "What eases it?"),
    "red_flags": ("hipviz-red-flag", "red_flags", "Warning signs"),
    "findings": ("hipviz-finding", "findings", "Examination: signs or tests found present"),
    "negative_findings": ("hipviz-finding", "findings", "Examination: signs or tests found absent"),
}


class FhirError(ValueError):
    """A Bundle was rejected (or a map could not be exported). The message names the problem."""


# --------------------------------------------------------------------------------------------
# Code tables (fhir_codes.yaml)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str
    confirmed: bool
    source: str | None
    match: str = "equivalent"


@dataclass(frozen=True)
class SiteCode:
    """The SNOMED CT body structure of one hipviz region (with optional pre-coordinated sides)."""

    site: Code
    left: Code | None
    right: Code | None


@dataclass(frozen=True)
class CodeTables:
    base: str
    sources: dict[str, str]
    fixed: dict[str, Code]
    laterality: dict[str, Code]
    regions: dict[str, SiteCode]
    qualities: dict[str, Code | None]

    def url(self, kind: str, name: str) -> str:
        return f"{self.base}/{kind}/{name}"

    @property
    def questionnaire_url(self) -> str:
        return self.url("Questionnaire", "hipviz-painmap")

    @property
    def confirmed_extension(self) -> str:
        return self.url("StructureDefinition", "code-confirmed")


_MATCHES = ("equivalent", "close", "broader")
_SCT_ID = re.compile(r"^\d{6,18}$")


def _code(entry: dict, where: str, system: str, sources: dict, *, inherit: dict | None = None) -> Code:
    inherit = inherit or {}
    code, display = str(entry.get("code", "")), entry.get("display")
    if system == SNOMED and not _SCT_ID.match(code):
        raise ValueError(f"fhir_codes.yaml {where}: {code!r} is not a SNOMED CT identifier")
    if not isinstance(display, str) or not display:
        raise ValueError(f"fhir_codes.yaml {where}: display is required")
    confirmed = entry.get("confirmed", inherit.get("confirmed"))
    source = entry.get("source", inherit.get("source"))
    match = entry.get("match", inherit.get("match", "equivalent"))
    if not isinstance(confirmed, bool):
        raise ValueError(f"fhir_codes.yaml {where}: confirmed must be true or false")
    if confirmed and source not in sources:
        raise ValueError(f"fhir_codes.yaml {where}: a confirmed code needs a source from `sources` (got {source!r})")
    if match not in _MATCHES:
        raise ValueError(f"fhir_codes.yaml {where}: match must be one of {', '.join(_MATCHES)}")
    return Code(system, code, display, confirmed, source, match)


@cache
def code_tables() -> CodeTables:
    """The code tables from fhir_codes.yaml, checked against vocabulary.yaml."""
    raw = yaml.safe_load(resources.files("hipviz").joinpath("fhir_codes.yaml").read_text("utf-8"))
    v = vocabulary()
    sources = dict(raw["sources"])
    fixed = {k: _code(e, f"fixed.{k}", e["system"], sources) for k, e in raw["fixed"].items()}
    lat = {k: _code(e, f"laterality.{k}", SNOMED, sources) for k, e in raw["laterality"].items()}
    if set(lat) != {"left", "right"}:
        raise ValueError("fhir_codes.yaml laterality: needs exactly left and right")
    regions = {}
    for rid, e in raw["regions"].items():
        if rid not in v.regions:
            raise ValueError(f"fhir_codes.yaml regions.{rid}: not a region in vocabulary.yaml")
        site = _code(e["snomed"], f"regions.{rid}", SNOMED, sources, inherit=e)
        sides = {s: _code(e[s], f"regions.{rid}.{s}", SNOMED, sources, inherit=e) if e.get(s) else None for s in ("left", "right")}
        if any(sides.values()) and rid not in v.sided_regions:
            raise ValueError(f"fhir_codes.yaml regions.{rid}: a midline region has no left/right codes")
        regions[rid] = SiteCode(site, sides["left"], sides["right"])
    missing = [r for r in v.regions if r not in regions]
    if missing:
        raise ValueError(f"fhir_codes.yaml regions: missing {', '.join(missing)}")
    qualities: dict[str, Code | None] = {}
    for qid, e in raw["qualities"].items():
        if qid not in v.qualities:
            raise ValueError(f"fhir_codes.yaml qualities.{qid}: not a quality in vocabulary.yaml")
        qualities[qid] = _code(e["snomed"], f"qualities.{qid}", SNOMED, sources, inherit=e) if e.get("snomed") else None
    missing = [q for q in v.qualities if q not in qualities]
    if missing:
        raise ValueError(f"fhir_codes.yaml qualities: missing {', '.join(missing)}")
    return CodeTables(str(raw["base"]).rstrip("/"), sources, fixed, lat, regions, qualities)


# --------------------------------------------------------------------------------------------
# Small builders (all through the library's models)
# --------------------------------------------------------------------------------------------


@cache
def _m():
    """The fhir.resources R4B model classes (imported on first use)."""
    from fhir.resources.R4B import (
        attachment, bundle, codeableconcept, coding, documentreference, extension, identifier, meta,
        observation, patient, quantity, questionnaire, questionnaireresponse, reference,
    )

    return {
        "Attachment": attachment.Attachment, "Bundle": bundle.Bundle, "BundleEntry": bundle.BundleEntry,
        "CodeableConcept": codeableconcept.CodeableConcept, "Coding": coding.Coding,
        "DocumentReference": documentreference.DocumentReference,
        "DocumentReferenceContent": documentreference.DocumentReferenceContent,
        "DocumentReferenceContext": documentreference.DocumentReferenceContext,
        "Extension": extension.Extension, "Identifier": identifier.Identifier, "Meta": meta.Meta,
        "Observation": observation.Observation, "ObservationComponent": observation.ObservationComponent,
        "Patient": patient.Patient, "Quantity": quantity.Quantity,
        "Questionnaire": questionnaire.Questionnaire, "QuestionnaireItem": questionnaire.QuestionnaireItem,
        "QuestionnaireItemAnswerOption": questionnaire.QuestionnaireItemAnswerOption,
        "QuestionnaireResponse": questionnaireresponse.QuestionnaireResponse,
        "QuestionnaireResponseItem": questionnaireresponse.QuestionnaireResponseItem,
        "QuestionnaireResponseItemAnswer": questionnaireresponse.QuestionnaireResponseItemAnswer,
        "Reference": reference.Reference,
    }


def _coding(c: Code, display: str | None = None):
    M = _m()
    t = code_tables()
    ext = None if c.confirmed else [M["Extension"](url=t.confirmed_extension, valueBoolean=False)]
    return M["Coding"](system=c.system, code=c.code, display=display or c.display, extension=ext)


def _hipviz_coding(cs: str, code: str, display: str):
    return _m()["Coding"](system=code_tables().url("CodeSystem", cs), code=code, display=display)


def _cc(*codings, text: str):
    return _m()["CodeableConcept"](coding=[c for c in codings if c is not None] or None, text=text)


def _ref(full_url: str, display: str | None = None):
    return _m()["Reference"](reference=full_url, display=display)


def _side_label(side: str) -> str:
    return "" if side == "midline" else f", {side}"


def _body_site_code(region: str, side: str) -> str:
    return region if side == "midline" else f"{region}:{side}"


def _snomed_site(region: str, side: str) -> Code:
    """The SNOMED CT coding of a (region, side): a pre-coordinated sided code where the table has
    one, else the site with its laterality as a post-coordinated expression (site:272741003=side)."""
    t = code_tables()
    sc = t.regions[region]
    if side in ("left", "right"):
        pre = getattr(sc, side)
        if pre is not None:
            return pre
        lat = t.laterality[side]
        attr = t.fixed["laterality_attribute"]
        return Code(
            SNOMED, f"{sc.site.code}:{attr.code}={lat.code}",
            f"{sc.site.display} : Laterality = {lat.display.replace(' (qualifier value)', '')}",
            sc.site.confirmed and lat.confirmed and attr.confirmed, sc.site.source, sc.site.match,
        )
    return sc.site


# --------------------------------------------------------------------------------------------
# The Questionnaire (generated from vocabulary.yaml)
# --------------------------------------------------------------------------------------------


def _options(cs: str, labels: dict[str, str]):
    M = _m()
    return [M["QuestionnaireItemAnswerOption"](valueCoding=_hipviz_coding(cs, k, lbl)) for k, lbl in labels.items()]


def questionnaire():
    """The Questionnaire a hipviz QuestionnaireResponse answers (url + version FORMAT_VERSION)."""
    M = _m()
    v = vocabulary()
    Item, Ext = M["QuestionnaireItem"], M["Extension"]
    regions = Item(
        linkId="regions", text="Where does it hurt, and how much (0-10)?", type="group", repeats=True,
        item=[
            Item(linkId="regions.region", text="Body region", type="choice", required=True,
                 answerOption=_options("hipviz-region", v.regions)),
            Item(linkId="regions.side", text="Side", type="choice", required=True,
                 answerOption=_options("hipviz-side", {s: s.capitalize() for s in SIDES})),
            Item(linkId="regions.intensity", text="Pain intensity (0 = none, 10 = worst imaginable)",
                 type="decimal", required=True,
                 extension=[Ext(url=MIN_VALUE, valueDecimal=0), Ext(url=MAX_VALUE, valueDecimal=10)]),
        ],
    )
    items = [regions]
    for field, (cs, attr, text) in _LISTS.items():
        items.append(Item(linkId=field, text=text, type="choice", repeats=True,
                          answerOption=_options(cs, getattr(v, attr))))
    items.append(Item(linkId="age", text="Age in years", type="integer",
                      extension=[Ext(url=MIN_VALUE, valueInteger=0), Ext(url=MAX_VALUE, valueInteger=120)]))
    items.append(Item(linkId="sex", text="Sex", type="choice",
                      answerOption=[M["QuestionnaireItemAnswerOption"](valueCoding=M["Coding"](
                          system=GENDER, code=s, display=s.capitalize())) for s in v.sexes]))
    t = code_tables()
    return M["Questionnaire"](
        url=t.questionnaire_url, version=str(FORMAT_VERSION), name="HipvizPainMap",
        title="hipviz pain map", status="active", subjectType=["Patient"],
        description="The answers of a hipviz pain map (format hipviz-painmap): the painted body regions "
        "with their intensity, the pain qualities, what makes it worse or better, warning signs and "
        "examination findings. Educational, not a diagnosis.",
        item=items,
    )


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------


def _as_painmap(document) -> PainMap:
    if isinstance(document, PainMap):
        return document
    if isinstance(document, dict):
        return PainMap.from_dict(document)
    if isinstance(document, (str, bytes, bytearray)):
        return PainMap.from_json(document)
    raise FhirError(f"expected a pain map (PainMap, dict or JSON), not {type(document).__name__}")


def _when(when) -> _dt.datetime:
    if when is None:
        return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    if isinstance(when, _dt.datetime):
        return when if when.tzinfo else when.replace(tzinfo=_dt.timezone.utc)
    if isinstance(when, _dt.date):
        return _dt.datetime(when.year, when.month, when.day, tzinfo=_dt.timezone.utc)
    raise FhirError(f"when: expected a date or datetime, not {type(when).__name__}")


def _num(x: float):
    return int(x) if float(x).is_integer() else float(x)


def to_bundle(document, *, pdf: bytes | None = None, when=None):
    """A validated FHIR Bundle (fhir.resources R4B model) for a pain map.

    ``pdf``: the PDF summary to attach as a DocumentReference (omitted when None);
    ``when``: the time the answers were given (default now, UTC)."""
    M = _m()
    t = code_tables()
    v = vocabulary()
    pm = _as_painmap(document)
    when = _when(when)
    stamp = when.isoformat()
    seed = json.dumps(pm.to_dict(), sort_keys=True) + stamp + hashlib.sha256(pdf or b"").hexdigest()

    def urn(kind: str, i: int = 0) -> str:
        return f"urn:uuid:{uuid.uuid5(_NS, f'{seed}|{kind}|{i}')}"

    entries: list[tuple[str, Any]] = []
    patient_url = urn("Patient")
    entries.append((patient_url, M["Patient"](gender=pm.sex)))
    q = questionnaire()
    entries.append((urn("Questionnaire"), q))

    # The answers.
    RItem, Ans = M["QuestionnaireResponseItem"], M["QuestionnaireResponseItemAnswer"]
    items = []
    for r in pm.regions:
        items.append(RItem(linkId="regions", item=[
            RItem(linkId="regions.region", answer=[Ans(valueCoding=_hipviz_coding("hipviz-region", r.region, v.regions[r.region]))]),
            RItem(linkId="regions.side", answer=[Ans(valueCoding=_hipviz_coding("hipviz-side", r.side, r.side.capitalize()))]),
            RItem(linkId="regions.intensity", answer=[Ans(valueDecimal=_num(r.intensity))]),
        ]))
    for field, (cs, attr, _text) in _LISTS.items():
        ids = getattr(pm, field)
        if ids:
            labels = getattr(v, attr)
            items.append(RItem(linkId=field, answer=[Ans(valueCoding=_hipviz_coding(cs, i, labels[i])) for i in ids]))
    if pm.age is not None:
        items.append(RItem(linkId="age", answer=[Ans(valueInteger=pm.age)]))
    if pm.sex is not None:
        items.append(RItem(linkId="sex", answer=[Ans(valueCoding=M["Coding"](system=GENDER, code=pm.sex, display=pm.sex.capitalize()))]))
    qr_url = urn("QuestionnaireResponse")
    entries.append((qr_url, M["QuestionnaireResponse"](
        questionnaire=f"{t.questionnaire_url}|{FORMAT_VERSION}", status="completed",
        subject=_ref(patient_url), author=_ref(patient_url), source=_ref(patient_url),
        authored=stamp, item=items or None,
    )))

    # One Symptom Observation per painted region.
    f = t.fixed
    category = [_cc(_coding(f["symptom_category"]), text="Symptom"),
                _cc(M["Coding"](system="http://terminology.hl7.org/CodeSystem/observation-category", code="survey",
                                display="Survey"), text="Survey")]

    def symptom(**kw):
        return M["Observation"](
            status="final", category=category, code=_cc(_coding(f["symptom_code"]), text="Symptom"),
            subject=_ref(patient_url), effectiveDateTime=stamp, issued=stamp, performer=[_ref(patient_url)],
            valueCodeableConcept=_cc(_coding(f["pain"]), text="Pain"), derivedFrom=[_ref(qr_url)], **kw,
        )

    region_urls = []
    for i, r in enumerate(pm.regions):
        label = f"{v.regions[r.region]}{_side_label(r.side)}"
        site = _snomed_site(r.region, r.side)
        body_site = _cc(
            _coding(site),
            _hipviz_coding("hipviz-body-site", _body_site_code(r.region, r.side), label),
            text=label if site.confirmed else f"{label} (SNOMED CT code not confirmed)",
        )
        severity = M["ObservationComponent"](
            code=_cc(_coding(f["pain_severity"]), text="Pain severity 0-10"),
            valueQuantity=M["Quantity"](value=_num(r.intensity), unit="score", system="http://unitsofmeasure.org", code="{score}"),
        )
        url = urn("Observation", i)
        region_urls.append(url)
        entries.append((url, symptom(bodySite=body_site, component=[severity])))

    # The pain qualities (of the pain as a whole), with the region Observations as members.
    if pm.qualities:
        comps = []
        for qid in pm.qualities:
            label = v.qualities[qid]
            sc = t.qualities[qid]
            text = label if sc is None or sc.confirmed else f"{label} (SNOMED CT code not confirmed)"
            comps.append(M["ObservationComponent"](
                code=_cc(_coding(f["quality"]), text="Pain quality"),
                valueCodeableConcept=_cc(_coding(sc) if sc else None, _hipviz_coding("hipviz-quality", qid, label), text=text),
            ))
        entries.append((urn("Observation-qualities"), symptom(
            component=comps, hasMember=[_ref(u) for u in region_urls] or None,
        )))

    # The PDF summary.
    if pdf is not None:
        if not isinstance(pdf, (bytes, bytearray)) or not bytes(pdf).startswith(b"%PDF"):
            raise FhirError("pdf: expected the bytes of a PDF file")
        pdf = bytes(pdf)
        entries.append((urn("DocumentReference"), M["DocumentReference"](
            status="current", docStatus="final",
            type=_cc(text="hipviz pain map summary (educational, not a diagnosis)"),
            subject=_ref(patient_url), date=stamp, description="One-page summary of the pain map",
            content=[M["DocumentReferenceContent"](attachment=M["Attachment"](
                contentType="application/pdf", data=base64.b64encode(pdf).decode("ascii"),
                size=len(pdf), hash=base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),
                title="hipviz pain map summary", creation=stamp,
            ))],
            context=M["DocumentReferenceContext"](related=[_ref(qr_url)]),
        )))

    fmt = M["Coding"](system=t.url("CodeSystem", "hipviz-format"), code=FORMAT, version=str(FORMAT_VERSION),
                      display="hipviz pain map")
    fv = M["Coding"](system=FHIR_VERSION_SYSTEM, code=FHIR_VERSION, display="R4")
    return M["Bundle"](
        meta=M["Meta"](tag=[fmt, fv]),
        identifier=M["Identifier"](system="urn:ietf:rfc:3986", value=urn("Bundle")),
        type="collection", timestamp=stamp,
        entry=[M["BundleEntry"](fullUrl=u, resource=res) for u, res in entries],
    )


def bundle_json_bytes(document, *, pdf: bytes | None = None, include_pdf: bool = True, when=None,
                      atlas=None) -> bytes:
    """The Bundle for a pain map as UTF-8 JSON bytes (for a download button).

    Without ``pdf``, the PDF summary is rendered with hipviz.report (a few seconds) unless
    ``include_pdf`` is False."""
    pm = _as_painmap(document)
    if pdf is None and include_pdf:
        from hipviz.report import pdf_bytes

        pdf = pdf_bytes(pm, atlas=atlas, date=_when(when).date() if when is not None else None)
    bundle = to_bundle(pm, pdf=pdf, when=when)
    return (bundle.model_dump_json(indent=2) + "\n").encode("utf-8")


def _atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_bundle(document, path, **kw) -> Path:
    """Write the Bundle JSON to `path` atomically (a temporary file, then a rename)."""
    return _atomic_write(path, bundle_json_bytes(document, **kw))


def write_painmap(painmap: PainMap, path) -> Path:
    """Write a pain map document atomically."""
    return _atomic_write(path, (painmap.to_json() + "\n").encode("utf-8"))


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------


class _Dup(Exception):
    pass


def _pairs(pairs):
    out = {}
    for k, val in pairs:
        if k in out:
            raise _Dup(k)
        out[k] = val
    return out


def _reject_constant(name):
    raise FhirError(f"bundle: {name} is not a number JSON or FHIR allows")


def _finite_float(text: str):
    x = float(text)
    if not math.isfinite(x):
        raise FhirError(f"bundle: the number {text} is too large")
    return x


def from_bundle_json(text_or_bytes: str | bytes | bytearray) -> PainMap:
    """Parse and check a Bundle (JSON) and return the pain map it carries."""
    if isinstance(text_or_bytes, str):
        text_or_bytes = text_or_bytes.encode("utf-8", "surrogatepass")
    if not isinstance(text_or_bytes, (bytes, bytearray)):
        raise FhirError(f"bundle: expected JSON text, got {type(text_or_bytes).__name__}")
    if len(text_or_bytes) > MAX_BUNDLE_BYTES:
        raise FhirError(f"bundle: {len(text_or_bytes)} bytes is over the size limit ({MAX_BUNDLE_BYTES} bytes)")
    try:
        text = bytes(text_or_bytes).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FhirError(f"bundle: not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as e:
        raise FhirError(f"bundle: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except _Dup as e:
        raise FhirError(f"bundle: key {e.args[0]!r} appears twice in one object") from None
    except RecursionError:
        raise FhirError("bundle: JSON nested too deeply") from None
    return from_bundle(data)


def read_bundle(path: str | os.PathLike) -> PainMap:
    """Read a Bundle file; the size limit is checked before reading."""
    try:
        size = os.stat(path).st_size
        if size > MAX_BUNDLE_BYTES:
            raise FhirError(f"bundle: {size} bytes is over the size limit ({MAX_BUNDLE_BYTES} bytes)")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BUNDLE_BYTES + 1)
    except FhirError:
        raise
    except IsADirectoryError:
        raise FhirError(f"{os.fspath(path)}: is a directory, not a Bundle file") from None
    except OSError as e:
        raise FhirError(f"{os.fspath(path)}: cannot read ({e.strerror or e})") from None
    return from_bundle_json(raw)


def _loc(loc: Iterable) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _check_tags(data: dict) -> None:
    meta = data.get("meta")
    tags = meta.get("tag") if isinstance(meta, dict) else None
    if not isinstance(tags, list):
        return
    t = code_tables()
    for tag in tags:
        if not isinstance(tag, dict):
            continue
        if tag.get("system") == FHIR_VERSION_SYSTEM:
            fv = str(tag.get("code"))
            if not ACCEPTED_FHIR_VERSIONS.match(fv):
                raise FhirError(f"meta.tag: the Bundle is for FHIR version {fv}; hipviz reads FHIR R4 (4.0.1) and R4B (4.3.0)")
        if tag.get("system") == t.url("CodeSystem", "hipviz-format"):
            ver = tag.get("version")
            if tag.get("code") != FORMAT:
                raise FhirError(f"meta.tag: format {tag.get('code')!r} is not {FORMAT!r}")
            _check_version(ver, "meta.tag (hipviz format)")


def _check_version(ver, where: str) -> None:
    if ver is None:
        return
    if not (isinstance(ver, str) and ver.isdigit()):
        raise FhirError(f"{where}: version {ver!r} is not a hipviz format version; allowed: {FORMAT_VERSION}")
    if int(ver) > FORMAT_VERSION:
        raise FhirError(f"{where}: version {ver} is newer than this hipviz supports ({FORMAT_VERSION})")
    if int(ver) != FORMAT_VERSION:
        raise FhirError(f"{where}: version {ver} is not supported; allowed: {FORMAT_VERSION}")


def _validate_bundle(data: dict):
    from fhir.resources.R4B.bundle import Bundle

    try:
        return Bundle.model_validate(data)
    except ValidationError as e:
        errs = e.errors(include_url=False)
        err = errs[0]
        path = _loc(err["loc"]) or "Bundle"
        msg = str(err.get("msg", "invalid"))
        more = f" (and {len(errs) - 1} more problem{'s' if len(errs) > 2 else ''})" if len(errs) > 1 else ""
        raise FhirError(f"{path}: {msg}{more}") from None
    except (ValueError, TypeError) as e:  # the library's own checks outside pydantic's errors
        raise FhirError(f"Bundle: {e}") from None


def _answers_coding(item, where: str, system: str, allowed: dict[str, str] | Iterable[str]) -> list[str]:
    out = []
    for j, a in enumerate(item.answer or []):
        c = a.valueCoding
        if c is None:
            raise FhirError(f"{where}.answer[{j}]: expected a Coding answer")
        if c.system != system:
            raise FhirError(f"{where}.answer[{j}]: code system {c.system!r} is not {system!r}")
        if c.code not in allowed:
            raise FhirError(f"{where}.answer[{j}]: {c.code!r} is not a known code of {system}")
        out.append(c.code)
    return out


def _one_answer(item, where: str):
    ans = item.answer or []
    if len(ans) != 1:
        raise FhirError(f"{where}: expected exactly one answer, found {len(ans)}")
    return ans[0]


def _read_response(qr, where: str) -> dict[str, Any]:
    t = code_tables()
    v = vocabulary()
    canonical = qr.questionnaire or ""
    url, _, ver = canonical.partition("|")
    if url != t.questionnaire_url:
        raise FhirError(f"{where}.questionnaire: {canonical!r} is not the hipviz pain map questionnaire ({t.questionnaire_url})")
    _check_version(ver or None, f"{where}.questionnaire")
    if qr.status not in _QR_STATUS:
        raise FhirError(f"{where}: status {qr.status!r} is not one hipviz reads; allowed: {', '.join(_QR_STATUS)}")
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION, "regions": []}
    seen: set[str] = set()
    for i, item in enumerate(qr.item or []):
        w = f"{where}.item[{i}]"
        link = item.linkId
        if link == "regions":
            parts: dict[str, Any] = {}
            for k, sub in enumerate(item.item or []):
                ws = f"{w}.item[{k}]"
                if sub.linkId in parts:
                    raise FhirError(f"{ws}: {sub.linkId!r} answered twice in one region")
                if sub.linkId == "regions.region":
                    parts[sub.linkId] = _answers_coding(sub, ws, t.url("CodeSystem", "hipviz-region"), v.regions)
                elif sub.linkId == "regions.side":
                    parts[sub.linkId] = _answers_coding(sub, ws, t.url("CodeSystem", "hipviz-side"), SIDES)
                elif sub.linkId == "regions.intensity":
                    a = _one_answer(sub, ws)
                    if a.valueDecimal is None and a.valueInteger is None:
                        raise FhirError(f"{ws}.answer[0]: expected a decimal intensity from 0 to 10")
                    x = float(a.valueDecimal if a.valueDecimal is not None else a.valueInteger)
                    if not math.isfinite(x):
                        raise FhirError(f"{ws}.answer[0]: intensity must be a finite number")
                    parts[sub.linkId] = x
                else:
                    raise FhirError(f"{ws}: {sub.linkId!r} is not a question of the regions group")
            for need in ("regions.region", "regions.side", "regions.intensity"):
                if need not in parts or parts[need] in ([],):
                    raise FhirError(f"{w}: the region group has no answer to {need!r}")
            if len(parts["regions.region"]) != 1 or len(parts["regions.side"]) != 1:
                raise FhirError(f"{w}: a region group takes exactly one region and one side")
            doc["regions"].append({"region": parts["regions.region"][0], "side": parts["regions.side"][0],
                                   "intensity": _num(parts["regions.intensity"])})
            continue
        if link in seen:
            raise FhirError(f"{w}: question {link!r} is answered twice")
        seen.add(link)
        if link in _LISTS:
            cs, attr, _ = _LISTS[link]
            doc[link] = _answers_coding(item, w, t.url("CodeSystem", cs), getattr(v, attr))
        elif link == "age":
            a = _one_answer(item, w)
            if a.valueInteger is None:
                raise FhirError(f"{w}.answer[0]: age must be a whole number")
            doc["age"] = int(a.valueInteger)
        elif link == "sex":
            doc["sex"] = _answers_coding(item, w, GENDER, v.sexes)[0] if item.answer else None
            if len(item.answer or []) != 1:
                raise FhirError(f"{w}: expected exactly one answer")
        else:
            raise FhirError(f"{w}: {link!r} is not a question of the hipviz pain map questionnaire")
    return doc


def _coding_key(c) -> str:
    return f"{c.system}|{c.code}"


def _decode_body_site(cc, where: str) -> tuple[str, str]:
    """(region, side) from an Observation.bodySite: the hipviz coding, else the SNOMED CT one."""
    t = code_tables()
    v = vocabulary()
    if cc is None or not cc.coding:
        raise FhirError(f"{where}: an Observation with a pain severity needs a coded bodySite")
    hip = t.url("CodeSystem", "hipviz-body-site")
    for c in cc.coding:
        if c.system == hip:
            region, _, side = (c.code or "").partition(":")
            side = side or "midline"
            if region not in v.regions or side not in v.region_sides(region):
                raise FhirError(f"{where}: {c.code!r} is not a known hipviz body site")
            return region, side
    matches: set[tuple[str, str]] = set()
    unknown = []
    for c in cc.coding:
        if c.system != SNOMED:
            unknown.append(_coding_key(c))
            continue
        for region in v.regions:
            for side in v.region_sides(region):
                if _snomed_site(region, side).code == c.code:
                    matches.add((region, side))
        if not matches:
            unknown.append(_coding_key(c))
    if len(matches) == 1:
        return matches.pop()
    if len(matches) > 1:
        names = ", ".join(f"{r} ({s})" for r, s in sorted(matches))
        raise FhirError(f"{where}: the SNOMED CT body site fits several hipviz regions ({names}); add the hipviz body-site code")
    raise FhirError(f"{where}: unknown body site code(s) {', '.join(unknown)}")


def _decode_quality(cc, where: str) -> str:
    t = code_tables()
    v = vocabulary()
    if cc is None or not cc.coding:
        raise FhirError(f"{where}: a pain quality needs a coded value")
    for c in cc.coding:
        if c.system == t.url("CodeSystem", "hipviz-quality"):
            if c.code not in v.qualities:
                raise FhirError(f"{where}: {c.code!r} is not a known pain quality")
            return c.code
    found = {q for q, sc in t.qualities.items() for c in cc.coding if sc and c.system == SNOMED and c.code == sc.code}
    if len(found) == 1:
        return found.pop()
    keys = ", ".join(_coding_key(c) for c in cc.coding)
    if found:
        raise FhirError(f"{where}: the SNOMED CT quality {keys} fits several hipviz qualities; add the hipviz quality code")
    raise FhirError(f"{where}: unknown pain quality code(s) {keys}")


def _has_code(cc, c: Code) -> bool:
    return cc is not None and any(x.system == c.system and x.code == c.code for x in (cc.coding or []))


_OBS_STATUS = ("final", "amended", "corrected")
_QR_STATUS = ("completed", "amended")


def _read_observations(observations, doc: dict[str, Any]) -> None:
    """Check the Observations against the answers (they must say the same)."""
    f = code_tables().fixed
    from_obs: dict[tuple[str, str], float] = {}
    qualities: list[str] | None = None
    for where, obs in observations:
        if obs.status not in _OBS_STATUS:
            raise FhirError(f"{where}: status {obs.status!r} is not one hipviz reads; allowed: {', '.join(_OBS_STATUS)}")
        sev = [c for c in (obs.component or []) if _has_code(c.code, f["pain_severity"])]
        qual = [c for c in (obs.component or []) if _has_code(c.code, f["quality"])]
        if sev:
            if len(sev) != 1:
                raise FhirError(f"{where}: more than one pain severity component")
            key = _decode_body_site(obs.bodySite, f"{where}.bodySite")
            q = sev[0].valueQuantity
            x = sev[0].valueInteger if q is None else q.value
            if x is None:
                raise FhirError(f"{where}: the pain severity component has no value")
            x = float(x)
            if not (math.isfinite(x) and 0 <= x <= 10):
                raise FhirError(f"{where}: pain severity {x:g} is outside 0-10")
            if key in from_obs:
                raise FhirError(f"{where}: a second Observation for {key[0]} ({key[1]})")
            from_obs[key] = x
        if qual:
            if qualities is not None:
                raise FhirError(f"{where}: a second Observation with pain qualities")
            qualities = [_decode_quality(c.valueCodeableConcept, f"{where}.component") for c in qual]
    answered = {(r["region"], r["side"]): float(r["intensity"]) for r in doc["regions"]}
    if from_obs != answered:
        diff = sorted(set(from_obs.items()) ^ set(answered.items()))
        (region, side), x = diff[0]
        which = "the Observations" if ((region, side), x) in from_obs.items() else "the QuestionnaireResponse"
        raise FhirError(f"Observations disagree with the QuestionnaireResponse: {region} ({side}) at {x:g} is only in {which}")
    if sorted(qualities or []) != sorted(doc.get("qualities", [])):
        raise FhirError("Observations disagree with the QuestionnaireResponse: the pain qualities differ")


def from_bundle(data: Any) -> PainMap:
    """The pain map in an already-parsed Bundle (dict); raises FhirError naming the problem."""
    if not isinstance(data, dict):
        raise FhirError("bundle: must be a JSON object (a FHIR Bundle)")
    rt = data.get("resourceType")
    if rt != "Bundle":
        raise FhirError(f"resourceType: {rt!r} is not a Bundle; hipviz imports the Bundle that `hipviz export --fhir` writes")
    _check_tags(data)
    bundle = _validate_bundle(data)
    t = code_tables()
    responses, observations = [], []
    for i, e in enumerate(bundle.entry or []):
        res = e.resource
        if res is None:
            continue
        kind = res.get_resource_type()
        where = f"entry[{i}] ({kind})"
        if kind == "QuestionnaireResponse":
            responses.append((where, res))
        elif kind == "Observation":
            observations.append((where, res))
        elif kind == "Questionnaire":
            if res.url != t.questionnaire_url:
                raise FhirError(f"{where}.url: {res.url!r} is not the hipviz pain map questionnaire")
            _check_version(res.version, f"{where}.version")
    if len(responses) != 1:
        raise FhirError(f"Bundle: expected one QuestionnaireResponse with the answers, found {len(responses)}")
    doc = _read_response(responses[0][1], responses[0][0])
    _read_observations(observations, doc)
    try:
        return PainMap.from_dict(doc)
    except PainMapError as e:
        raise FhirError(f"{responses[0][0]}: the answers are not a valid pain map ({e})") from None


def bundle_pdf(data: dict) -> bytes | None:
    """The PDF summary attached to a Bundle (dict), or None."""
    bundle = _validate_bundle(data)
    for e in bundle.entry or []:
        res = e.resource
        if res is not None and res.get_resource_type() == "DocumentReference":
            for c in res.content or []:
                if c.attachment and c.attachment.contentType == "application/pdf" and c.attachment.data:
                    return bytes(c.attachment.data)
    return None
