"""FHIR R4 export and import: every example map round-trips through a Bundle that the FHIR library
validates; the resources carry the codes from fhir_codes.yaml; bad Bundles are refused by name."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json

import pytest

from hipviz import fhir
from hipviz.cli import main
from hipviz.fhir import FhirError, bundle_json_bytes, code_tables, from_bundle, from_bundle_json
from hipviz.painmap import PainMap
from hipviz.paths import data_dir
from hipviz.vocabulary import vocabulary

EXAMPLES = sorted(p for p in (data_dir("pain_maps") / "examples").glob("*.json") if p.name != "index.json")
WHEN = dt.datetime(2026, 1, 31, 9, 30, tzinfo=dt.timezone.utc)
FAKE_PDF = b"%PDF-1.4\n% stand-in for the rendered summary\n"


def _bundle(pm, **kw) -> dict:
    kw.setdefault("pdf", FAKE_PDF)
    return json.loads(bundle_json_bytes(pm, when=WHEN, **kw))


def _resources(b: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == kind]


def _fields(pm: PainMap) -> dict:
    """The fields a Bundle carries: everything except the per-vertex paint."""
    d = pm.to_dict()
    d.pop("vertex_paint", None)
    return d


def _map(**kw) -> PainMap:
    return PainMap.from_dict({"format": "hipviz-painmap", "version": 1, **kw})


@pytest.fixture(scope="module")
def gtps() -> PainMap:
    return PainMap.from_file(data_dir("pain_maps") / "examples" / "gtps_side_lying.json")


# -- code tables ---------------------------------------------------------------------------------


def test_code_tables_cover_the_vocabulary_and_name_their_sources():
    t = code_tables()
    v = vocabulary()
    assert set(t.regions) == set(v.regions) and set(t.qualities) == set(v.qualities)
    codes = [sc.site for sc in t.regions.values()] + [c for sc in t.regions.values() for c in (sc.left, sc.right) if c]
    codes += [c for c in t.qualities.values() if c] + list(t.fixed.values()) + list(t.laterality.values())
    for c in codes:
        assert c.display and c.match in ("equivalent", "close", "broader")
        if c.confirmed:
            assert c.source in t.sources, c
    # the tables are honest about what nobody checked yet
    assert any(not c.confirmed for c in codes)
    assert t.fixed["pain_severity"].code == "72514-3" and t.fixed["symptom_code"].code == "75325-1"
    assert t.laterality["left"].code == "7771000" and t.laterality["right"].code == "24028007"


# -- export --------------------------------------------------------------------------------------


def test_bundle_validates_with_the_library_and_has_the_resources(gtps):
    from fhir.resources.R4B.bundle import Bundle

    b = _bundle(gtps)
    Bundle.model_validate(b)  # the library's own models accept what we wrote
    assert b["type"] == "collection" and b["timestamp"] == "2026-01-31T09:30:00Z"
    tags = {t["system"]: t for t in b["meta"]["tag"]}
    assert tags["http://hl7.org/fhir/FHIR-version"]["code"] == "4.0.1"
    kinds = [e["resource"]["resourceType"] for e in b["entry"]]
    assert kinds.count("Patient") == kinds.count("Questionnaire") == kinds.count("QuestionnaireResponse") == 1
    assert kinds.count("DocumentReference") == 1
    assert kinds.count("Observation") == len(gtps.regions) + (1 if gtps.qualities else 0)
    full_urls = [e["fullUrl"] for e in b["entry"]]
    assert len(set(full_urls)) == len(full_urls) and all(u.startswith("urn:uuid:") for u in full_urls)
    # every reference points inside the Bundle
    refs = set()

    def walk(x):
        if isinstance(x, dict):
            if set(x) >= {"reference"}:
                refs.add(x["reference"])
            for val in x.values():
                walk(val)
        elif isinstance(x, list):
            for val in x:
                walk(val)

    walk(b["entry"])
    assert refs and refs <= set(full_urls)
    assert _resources(b, "Patient")[0] == {"resourceType": "Patient", "gender": "female"}


def test_export_is_deterministic(gtps):
    assert bundle_json_bytes(gtps, pdf=FAKE_PDF, when=WHEN) == bundle_json_bytes(gtps, pdf=FAKE_PDF, when=WHEN)


def test_questionnaire_is_generated_from_the_vocabulary(gtps):
    v = vocabulary()
    q = _resources(_bundle(gtps), "Questionnaire")[0]
    qr = _resources(_bundle(gtps), "QuestionnaireResponse")[0]
    assert qr["questionnaire"] == f"{q['url']}|{q['version']}"
    items = {i["linkId"]: i for i in q["item"]}
    assert set(items) == {"regions", "qualities", "aggravators", "relievers", "red_flags", "findings",
                          "negative_findings", "age", "sex"}
    sub = {i["linkId"]: i for i in items["regions"]["item"]}
    assert [o["valueCoding"]["code"] for o in sub["regions.region"]["answerOption"]] == list(v.regions)
    assert [o["valueCoding"]["display"] for o in sub["regions.region"]["answerOption"]] == list(v.regions.values())
    for field, attr in (("qualities", "qualities"), ("aggravators", "aggravators"), ("relievers", "relievers"),
                        ("red_flags", "red_flags"), ("findings", "findings"), ("negative_findings", "findings")):
        assert [o["valueCoding"]["code"] for o in items[field]["answerOption"]] == list(getattr(v, attr)), field
    assert [o["valueCoding"]["code"] for o in items["sex"]["answerOption"]] == list(v.sexes)


def test_one_symptom_observation_per_region_with_severity_and_lateral_body_site(gtps):
    t = code_tables()
    b = _bundle(gtps)
    obs = [o for o in _resources(b, "Observation") if o.get("bodySite")]
    assert len(obs) == len(gtps.regions)
    for o, r in zip(obs, gtps.regions):
        assert o["status"] == "final"
        assert {"system": "http://loinc.org", "code": "75325-1", "display": "Symptom"} in o["code"]["coding"]
        assert o["category"][0]["coding"][0]["code"] == "symptom"
        assert o["valueCodeableConcept"]["coding"][0]["code"] == "22253000"
        sev = [c for c in o["component"] if c["code"]["coding"][0]["code"] == "72514-3"]
        assert len(sev) == 1 and sev[0]["valueQuantity"]["value"] == r.intensity
        assert sev[0]["valueQuantity"]["code"] == "{score}"
        codings = {c["system"]: c for c in o["bodySite"]["coding"]}
        sct = codings["http://snomed.info/sct"]["code"]
        site = t.regions[r.region]
        pre = getattr(site, r.side, None) if r.side != "midline" else None
        if pre is not None:
            assert sct == pre.code
        elif r.side == "midline":
            assert sct == site.site.code
        else:
            assert sct == f"{site.site.code}:272741003={t.laterality[r.side].code}"
        assert codings[t.url("CodeSystem", "hipviz-body-site")]["code"] == f"{r.region}:{r.side}"
        assert vocabulary().regions[r.region] in o["bodySite"]["text"]


def test_midline_and_precoordinated_sites_and_qualities():
    pm = _map(regions=[{"region": "coccyx", "side": "midline", "intensity": 4},
                       {"region": "low_back_paraspinal", "side": "left", "intensity": 5.5}],
              qualities=["burning", "sharp"])
    b = _bundle(pm)
    obs = _resources(b, "Observation")
    sites = [o["bodySite"] for o in obs if o.get("bodySite")]
    assert sites[0]["coding"][0]["code"] == "64688005" and sites[0]["coding"][1]["code"] == "coccyx"
    assert sites[1]["coding"][0]["code"] == "1017210004"  # Structure of left lumbar region of back
    qual = [o for o in obs if not o.get("bodySite")]
    assert len(qual) == 1 and len(qual[0]["hasMember"]) == 2
    values = [c["valueCodeableConcept"] for c in qual[0]["component"]]
    assert [c["code"]["coding"][0]["code"] for c in qual[0]["component"]] == ["56823-8", "56823-8"]
    assert values[0]["coding"][0] == {"system": "http://snomed.info/sct", "code": "36349006", "display": "Burning pain"}
    # no SNOMED CT code is confirmed for "sharp": hipviz code and text only
    assert [c["system"] for c in values[1]["coding"]] == [code_tables().url("CodeSystem", "hipviz-quality")]
    assert values[1]["text"] == "Sharp"
    assert from_bundle(b).to_dict() == _fields(pm)


def test_unconfirmed_codes_are_marked_in_the_bundle():
    t = code_tables()
    assert not t.regions["sole"].site.confirmed and not t.qualities["numbness"].confirmed
    pm = _map(regions=[{"region": "sole", "side": "right", "intensity": 3},
                       {"region": "heel", "side": "right", "intensity": 2}], qualities=["numbness"])
    obs = _resources(_bundle(pm), "Observation")
    sole, heel, qual = obs
    flag = {"url": t.confirmed_extension, "valueBoolean": False}
    assert sole["bodySite"]["coding"][0]["extension"] == [flag]
    assert "not confirmed" in sole["bodySite"]["text"]
    assert "extension" not in heel["bodySite"]["coding"][0] and "not confirmed" not in heel["bodySite"]["text"]
    num = qual["component"][0]["valueCodeableConcept"]
    assert num["coding"][0]["extension"] == [flag] and "not confirmed" in num["text"]


def test_pdf_summary_is_a_document_reference(gtps):
    b = json.loads(bundle_json_bytes(gtps, when=WHEN))  # renders the real PDF summary
    doc = _resources(b, "DocumentReference")[0]
    att = doc["content"][0]["attachment"]
    pdf = base64.b64decode(att["data"])
    assert att["contentType"] == "application/pdf" and pdf.startswith(b"%PDF") and att["size"] == len(pdf)
    assert fhir.bundle_pdf(b) == pdf
    pypdf = pytest.importorskip("pypdf")
    import io

    text = " ".join(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "pain map summary" in text and "2026-01-31" in text
    assert from_bundle(b).to_dict() == _fields(gtps)


def test_without_pdf_there_is_no_document_reference(gtps):
    b = json.loads(bundle_json_bytes(gtps, include_pdf=False, when=WHEN))
    assert not _resources(b, "DocumentReference")


# -- round trip ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_map_round_trips(path):
    pm = PainMap.from_file(path)
    raw = bundle_json_bytes(pm, pdf=FAKE_PDF, when=WHEN)
    assert from_bundle_json(raw).to_dict() == _fields(pm)


def test_round_trip_of_fractional_intensities_and_everything_absent():
    pm = _map(regions=[{"region": "buttock_lateral", "side": "left", "intensity": 6.3},
                       {"region": "perineum", "side": "midline", "intensity": 0}])
    assert from_bundle(_bundle(pm)).to_dict() == _fields(pm)
    empty = _map()
    b = _bundle(empty)
    assert [o for o in _resources(b, "Observation")] == []
    assert from_bundle(b).to_dict() == _fields(empty)


def test_bundle_json_bytes_takes_a_document_dict(gtps):
    assert bundle_json_bytes(gtps.to_dict(), pdf=FAKE_PDF, when=WHEN) == bundle_json_bytes(gtps, pdf=FAKE_PDF, when=WHEN)


def test_snomed_only_body_sites_are_read_when_unambiguous(gtps):
    b = _bundle(_map(regions=[{"region": "groin", "side": "right", "intensity": 6},
                              {"region": "lateral_thigh", "side": "right", "intensity": 2}]))
    obs = [o for o in _resources(b, "Observation") if o.get("bodySite")]
    hip = code_tables().url("CodeSystem", "hipviz-body-site")
    obs[0]["bodySite"]["coding"] = [c for c in obs[0]["bodySite"]["coding"] if c["system"] != hip]
    assert [r.region for r in from_bundle(b).regions] == ["groin", "lateral_thigh"]
    obs[1]["bodySite"]["coding"] = [c for c in obs[1]["bodySite"]["coding"] if c["system"] != hip]
    with pytest.raises(FhirError, match="fits several hipviz regions.*lateral_thigh"):
        from_bundle(b)


# -- bad bundles ---------------------------------------------------------------------------------


def _obs(b):
    return [o for o in _resources(b, "Observation") if o.get("bodySite")]


def _qr(b):
    return _resources(b, "QuestionnaireResponse")[0]


BAD = {
    "wrong resourceType": (lambda b: {"resourceType": "Patient"}, r"resourceType: 'Patient' is not a Bundle"),
    "not an object": (lambda b: [b], r"must be a JSON object"),
    "FHIR R5": (lambda b: b["meta"]["tag"][1].update(code="5.0.0"), r"FHIR version 5\.0\.0"),
    "newer format": (lambda b: b["meta"]["tag"][0].update(version="2"), r"version 2 is newer"),
    "newer questionnaire": (lambda b: _qr(b).update(questionnaire=_qr(b)["questionnaire"][:-1] + "3"),
                            r"questionnaire: version 3 is newer"),
    "other questionnaire": (lambda b: _qr(b).update(questionnaire="http://example.org/Questionnaire/x|1"),
                            r"is not the hipviz pain map questionnaire"),
    "unknown region code": (lambda b: _qr(b)["item"][0]["item"][0]["answer"][0]["valueCoding"].update(code="elbow"),
                            r"'elbow' is not a known code"),
    "unknown aggravator": (lambda b: next(i for i in _qr(b)["item"] if i["linkId"] == "aggravators")["answer"][0]
                           ["valueCoding"].update(code="juggling"), r"'juggling' is not a known code"),
    "unknown question": (lambda b: _qr(b)["item"].append({"linkId": "shoe_size", "answer": [{"valueInteger": 42}]}),
                         r"'shoe_size' is not a question"),
    "unknown body site": (lambda b: _obs(b)[0]["bodySite"].update(coding=[{"system": "http://snomed.info/sct", "code": "12345678"}]),
                          r"unknown body site code\(s\) http://snomed.info/sct\|12345678"),
    "unknown quality": (lambda b: next(o for o in _resources(b, "Observation") if not o.get("bodySite"))["component"][0]
                        ["valueCodeableConcept"].update(coding=[{"system": "http://snomed.info/sct", "code": "1"}]),
                        r"unknown pain quality"),
    "observation disagrees": (lambda b: _obs(b)[0]["component"][0]["valueQuantity"].update(value=2),
                              r"disagree with the QuestionnaireResponse"),
    "severity out of range": (lambda b: _obs(b)[0]["component"][0]["valueQuantity"].update(value=11),
                              r"outside 0-10"),
    "no answers": (lambda b: b["entry"].__delitem__(2), r"expected one QuestionnaireResponse"),
    "library rejects a type": (lambda b: _obs(b)[0].update(component="seven"), r"component"),
    "observation status": (lambda b: _obs(b)[0].update(status="entered-in-error"), r"status 'entered-in-error'"),
    "response status": (lambda b: _qr(b).update(status="in-progress"), r"status 'in-progress'"),
    "unknown field": (lambda b: _obs(b)[0].update(shoeSize=42), r"shoeSize"),
    "out-of-range age": (lambda b: next(i for i in _qr(b)["item"] if i["linkId"] == "age")["answer"][0]
                         .update(valueInteger=300), r"not a valid pain map.*age"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_bundles_are_refused_by_name(case, gtps):
    change, message = BAD[case]
    b = _bundle(gtps)
    out = change(b)
    doc = out if out is not None else b
    with pytest.raises(FhirError, match=message):
        from_bundle_json(json.dumps(doc).encode())


@pytest.mark.parametrize("text,message", [
    (b'{"resourceType": "Bundle", "type": "collection", "total": NaN}', "NaN is not a number"),
    (b'{"resourceType": "Bundle", "type": "collection", "total": -Infinity}', "-Infinity is not a number"),
    (b'{"resourceType": "Bundle", "x": 1e999}', "too large"),
    (b'{"resourceType": "Bundle", "resourceType": "Bundle"}', "appears twice"),
    (b'{"resourceType": ', "not valid JSON"),
    (b'\xff\xfe{}', "not UTF-8"),
])
def test_bad_json_is_refused(text, message):
    with pytest.raises(FhirError, match=message):
        from_bundle_json(text)


def test_oversize_bundles_are_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(fhir, "MAX_BUNDLE_BYTES", 1000)
    big = tmp_path / "big.json"
    big.write_bytes(b"{" + b" " * 2000 + b"}")
    with pytest.raises(FhirError, match="over the size limit"):
        fhir.read_bundle(big)
    with pytest.raises(FhirError, match="over the size limit"):
        from_bundle_json(big.read_bytes())


def test_nan_intensity_in_a_built_bundle_is_refused(gtps):
    raw = bundle_json_bytes(gtps, pdf=FAKE_PDF, when=WHEN).replace(b'"valueDecimal": 7', b'"valueDecimal": NaN', 1)
    with pytest.raises(FhirError, match="NaN"):
        from_bundle_json(raw)


# -- command line --------------------------------------------------------------------------------


def test_cli_export_and_import_round_trip(tmp_path, capsys):
    src = data_dir("pain_maps") / "examples" / "s1_sciatica.json"
    bundle = tmp_path / "bundle.json"
    assert main(["export", str(src), "--fhir", "--no-pdf", "--date", "2026-01-31", "--out", str(bundle)]) == 0
    assert "wrote" in capsys.readouterr().out
    b = json.loads(bundle.read_text())
    assert b["resourceType"] == "Bundle" and b["timestamp"] == "2026-01-31T00:00:00Z"
    out = tmp_path / "map.json"
    assert main(["import", str(bundle), "--out", str(out)]) == 0
    assert PainMap.from_file(out).to_dict() == _fields(PainMap.from_file(src))
    capsys.readouterr()
    assert main(["import", str(bundle)]) == 0
    assert json.loads(capsys.readouterr().out) == _fields(PainMap.from_file(src))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.json", "map.json"]  # no temporary files left


def test_cli_export_with_pdf(tmp_path):
    bundle = tmp_path / "bundle.json"
    src = data_dir("pain_maps") / "examples" / "gtps_side_lying.json"
    assert main(["export", str(src), "--fhir", "--out", str(bundle)]) == 0
    b = json.loads(bundle.read_text())
    assert fhir.bundle_pdf(b).startswith(b"%PDF")


@pytest.mark.parametrize("args,needle", [
    (["export", "MISSING.json", "--fhir", "--no-pdf", "--out", "OUT.json"], "cannot read"),
    (["export", "MAP", "--fhir", "--no-pdf", "--out", "bundle.pdf"], "--out must be a .json file"),
    (["export", "MAP", "--fhir", "--no-pdf", "--out", "OUT.json", "--date", "31/01/2026"], "--date must look like"),
    (["import", "BAD", "--out", "OUT.json"], "is not a Bundle"),
    (["import", "NAN", "--out", "OUT.json"], "NaN"),
])
def test_cli_bad_input_exits_2_and_writes_nothing(args, needle, tmp_path, capsys):
    (tmp_path / "BAD").write_text('{"resourceType": "Observation"}')
    (tmp_path / "NAN").write_text('{"resourceType": "Bundle", "type": "collection", "total": NaN}')
    src = data_dir("pain_maps") / "examples" / "gtps_side_lying.json"
    names = {"MAP": str(src), "BAD": str(tmp_path / "BAD"), "NAN": str(tmp_path / "NAN"),
             "OUT.json": str(tmp_path / "OUT.json"), "MISSING.json": str(tmp_path / "MISSING.json"),
             "bundle.pdf": str(tmp_path / "bundle.pdf")}
    assert main([names.get(a, a) for a in args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
    assert not (tmp_path / "OUT.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_import_keeps_an_existing_file_when_the_bundle_is_bad(tmp_path):
    out = tmp_path / "map.json"
    out.write_text("previous")
    (tmp_path / "bad.json").write_text('{"resourceType": "Bundle", "type": "collection", "meta": '
                                       '{"tag": [{"system": "http://hl7.org/fhir/FHIR-version", "code": "3.0.2"}]}}')
    assert main(["import", str(tmp_path / "bad.json"), "--out", str(out)]) == 2
    assert out.read_text() == "previous"


def test_copy_is_not_mutated(gtps):
    b = _bundle(gtps)
    before = copy.deepcopy(b)
    from_bundle(b)
    assert b == before
