"""Muscles, ligaments and arteries from BodyParts3D, reduced to the atlas's triangle budget.

Each entry: atlas base id -> (right FMA ids, left FMA ids, triangle target). Several FMA ids in one
entry are merged into one mesh (the proximal hamstrings, the two heads of gastrocnemius, adductor
magnus with its minimus part). Hip-region muscles keep their full resolution.
"""

from __future__ import annotations

from hipviz.atlas.build.bp3d import Pack
from hipviz.atlas.build.geometry import Mesh, decimate

SOFT = {
    # the hip region, full resolution (or nearly)
    "gluteus_maximus": ((22328,), (22329,), 4000),
    "gluteus_medius": ((22330,), (22331,), 4000),
    "gluteus_minimus": ((22332,), (22333,), 3600),
    "piriformis": ((22340,), (22341,), 2000),
    "quadratus_femoris": ((22338,), (22339,), 2000),
    "obturator_internus": ((22324,), (22325,), 2500),
    "obturator_externus": ((22326,), (22327,), 1000),
    "gemellus_superior": ((22334,), (22335,), 600),
    "gemellus_inferior": ((22336,), (22337,), 700),
    "tensor_fasciae_latae": ((22425,), (22426,), 1300),
    "iliacus": ((22322,), (22323,), 2800),
    "psoas_major": ((22342,), (22343,), 3000),
    "hamstrings": ((45888, 22358, 22448), (45889, 22359, 22449), 7000),
    "coccygeus": ((46443,), (46444,), 1000),
    # thigh, leg and back context
    "biceps_femoris_short_head": ((45891,), (45892,), 900),
    "rectus_femoris": ((38928,), (38929,), 2200),
    "vastus_lateralis": ((38930,), (38931,), 2600),
    "vastus_medialis": ((38932,), (38933,), 2000),
    "vastus_intermedius": ((38934,), (38935,), 1800),
    "sartorius": ((22354,), (22355,), 1500),
    "gracilis": ((43883,), (43884,), 1400),
    "adductor_longus": ((22456,), (22457,), 1200),
    "adductor_brevis": ((22452,), (22454,), 800),
    "adductor_magnus": ((22459, 43886), (22460, 43887), 3000),
    "pectineus": ((22450,), (22451,), 800),
    "gastrocnemius": ((45957, 45960), (45958, 45961), 2800),
    "soleus": ((22558,), (22559,), 2000),
    "tibialis_anterior": ((22544,), (22545,), 1200),
    "fibularis_longus": ((22552,), (22553,), 1500),
    "iliocostalis_lumborum": ((22740,), (22741,), 3000),
    "longissimus_thoracis": ((22751,), (22753,), 3000),
    "iliotibial_tract": ((58776,), (58777,), 3000),
    "inguinal_ligament": ((21964,), (21965,), 800),
    "common_iliac_artery": ((14765,), (14766,), 400),
    "external_iliac_artery": ((18806,), (18807,), 500),
    "internal_iliac_artery": ((18809,), (18810,), 400),
    "femoral_artery": ((70249,), (70250,), 900),
}
MIDLINE_SOFT = {"abdominal_aorta": ((3789,), 1500)}
# coarse arteries: refined like the coarse bones
REFINED = {"common_iliac_artery", "external_iliac_artery", "internal_iliac_artery", "femoral_artery", "abdominal_aorta"}


def build_soft(pack: Pack) -> dict[str, Mesh]:
    from hipviz.atlas.build.geometry import smooth_refine

    out: dict[str, Mesh] = {}
    for base, (right, left, target) in SOFT.items():
        for side, fmas in (("right", right), ("left", left)):
            v, f = pack.meshes(fmas)
            out[f"{base}_{side}"] = smooth_refine(v, f, target) if base in REFINED else decimate(v, f, target)
    for aid, (fmas, target) in MIDLINE_SOFT.items():
        v, f = pack.meshes(fmas)
        out[aid] = smooth_refine(v, f, target) if aid in REFINED else decimate(v, f, target)
    return out
