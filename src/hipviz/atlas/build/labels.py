"""Label every skin vertex: body-surface region and side, dermatome, cutaneous nerve territory.

Vertices of the head, arms and chest are "outside the area this app covers" (region -1, no
dermatome, no nerve). Regions follow the contract list of DESIGN.md section 4, placed from the skeleton's landmarks
(iliac crest, PSIS, greater trochanter, hip, knee and ankle centres) and angles around the trunk
and each limb axis. Dermatomes follow the evidence-based map of Lee, McPhee and Stringer
(Clin Anat 2008;21:363-373, doi:10.1002/ca.20636): its most consistent areas seed each
dermatome and the variable areas between them take the nearest seed along the skin, so every
vertex has a label and each dermatome is one contiguous band. Those filled vertices are flagged
`dermatome_variable` so the app can say that the boundary there differs between people.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import dijkstra

from hipviz.atlas.build.bones import SIDES, Skeleton
from hipviz.vocabulary import vocabulary

DERMATOMES = ("T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1", "S2", "S3", "S4")
NERVE_TERRITORIES = ("none", "lateral_femoral_cutaneous", "superior_cluneal", "middle_cluneal", "posterior_femoral_cutaneous",
                     "saphenous", "sural", "superficial_fibular", "deep_fibular")


def _region_index():
    return {r: i for i, r in enumerate(vocabulary().regions)}


def label_skin(v: np.ndarray, f: np.ndarray, sk: Skeleton) -> dict[str, np.ndarray]:
    lm = sk.landmarks
    R = _region_index()
    n = len(v)
    region = np.full(n, -1, np.int16)
    x, y, z = v.T
    outside = outside_mask(v, f, sk)
    side = np.where(z >= 0, 2, 1).astype(np.int8)
    s = np.where(z >= 0, 1.0, -1.0)
    az = np.abs(z)

    hip_y = float(np.mean([lm[f"acetabulum_centre_{k}"][1] for k in SIDES]))
    hip_x = float(np.mean([lm[f"acetabulum_centre_{k}"][0] for k in SIDES]))
    hip_z = float(np.mean([abs(lm[f"acetabulum_centre_{k}"][2]) for k in SIDES]))
    psis_y = float(np.mean([lm[f"PSIS_{k}"][1] for k in SIDES]))
    asis_y = float(np.mean([lm[f"ASIS_{k}"][1] for k in SIDES]))
    crest_top = float(np.mean([lm[f"iliac_crest_top_{k}"][1] for k in SIDES]))
    it_y = float(np.mean([lm[f"ischial_tuberosity_{k}"][1] for k in SIDES]))
    crotch_y = float(lm["crotch"][1])
    knee_y = float(np.mean([lm[f"knee_{k}"][1] for k in SIDES]))
    ankle_y = float(np.mean([lm[f"ankle_{k}"][1] for k in SIDES]))
    fold_y = it_y - 0.025  # gluteal fold: just below the ischial tuberosity

    # -- trunk and pelvis: angle around a vertical axis through the hip centres ----------------
    theta = np.degrees(np.arctan2(az, x - hip_x))  # 0 front, 90 side, 180 back
    crest_y = _crest_height(sk, theta, s)
    perineum = (az < 0.035) & (y < crotch_y + 0.045) & (y > crotch_y - 0.03) & (theta > 25) & (theta < 150)
    # the external genitals hang in front of the perineum, between the thighs: part of it here
    genital = (az < 0.03) & (x > lm["crotch"][0] + 0.02) & (y < crotch_y + 0.09) & (y > crotch_y - 0.10) & (theta < 90)
    perineum |= genital
    trunk = (y > fold_y) & ~perineum
    leg = ~trunk & ~perineum
    region[perineum] = R["perineum"]
    # thigh membership below the groin crease in front: the crease runs from the crotch up to
    # about 2 cm below the ASIS laterally
    crease = crotch_y + (asis_y - 0.06 - crotch_y) * np.clip((az - 0.02) / (hip_z + 0.05), 0, 1)
    front_leg = (theta < 75) & (y < crease) & (az > 0.02)
    trunk &= ~front_leg
    leg |= front_leg
    back = theta >= 110
    lateral = (theta >= 60) & (theta < 110)
    front = theta < 60

    above_crest = trunk & (y >= crest_y + 0.02)
    crest_band = trunk & (np.abs(y - (crest_y + 0.005)) < 0.02) & (theta > 55) & (az > 0.065)
    region[above_crest & back & (az < 0.025)] = R["low_back_central"]
    region[above_crest & back & (az >= 0.025) & (az < 0.075)] = R["low_back_paraspinal"]
    region[above_crest & ~front & (az >= 0.075)] = R["flank"]
    region[trunk & front & (y >= crease) & ((y > asis_y - 0.04) | (az < hip_z - 0.02))] = R["lower_abdomen"]
    region[crest_band & ~(back & (az < 0.075))] = R["iliac_crest"]
    pelvis = trunk & (y < crest_y + 0.02) & (region < 0)
    region[pelvis & back & (az < 0.02) & (y > psis_y - 0.03)] = R["low_back_central"]
    region[pelvis & back & (az >= 0.02) & (az < 0.065) & (y >= psis_y - 0.07)] = R["sacroiliac"]
    region[pelvis & back & (az < 0.02) & (y < psis_y - 0.03) & (y > crotch_y + 0.03)] = R["coccyx"]
    mid_b = hip_y + 0.005
    rest = pelvis & (region < 0)
    gt = np.array([lm[f"greater_trochanter_lateral_{k}"] for k in SIDES])
    d_gt = np.minimum(np.linalg.norm(v - gt[0], axis=1), np.linalg.norm(v - gt[1], axis=1))
    troch = (d_gt < 0.075) & (theta > 55) & (theta < 125) & (y < crest_y - 0.02)
    region[(rest | leg) & troch & (y > hip_y - 0.12)] = R["lateral_hip_trochanter"]
    rest = pelvis & (region < 0)
    region[rest & (back | lateral) & (y >= mid_b) & (theta >= 95)] = R["buttock_upper"]
    region[rest & back & (y < mid_b) & (az < hip_z)] = R["buttock_lower_medial"]
    region[rest & (theta >= 95) & (y < mid_b) & (az >= hip_z)] = R["buttock_lateral"]
    region[rest & (region < 0) & (theta >= 60) & (theta < 95)] = R["lateral_hip_trochanter"]
    region[pelvis & (region < 0) & front] = R["groin"]
    region[trunk & (region < 0) & front & (y < asis_y)] = R["groin"]
    # the groin: a band along the crease in front of the hip
    groin = (theta < 75) & (np.abs(y - crease) < 0.03) & (az > 0.03) & (az < hip_z + 0.05)
    region[groin & (region != R["lateral_hip_trochanter"])] = R["groin"]

    # -- legs: angle around each limb axis -----------------------------------------------------
    frac_thigh = (hip_y - y) / (hip_y - knee_y)
    limb_angle = np.zeros(n)  # angle round the limb axis: 0 front, +90 lateral, -90 medial
    for k, sgn in (("right", 1), ("left", -1)):
        mine = (leg | (region < 0)) & (s == sgn) & (region < 0)
        ankle_c = lm[f"ankle_{k}"]
        d = v - _limb_axis(v, (s == sgn) & ~trunk & ~perineum & (y > ankle_y + 0.02))
        phi = np.degrees(np.arctan2(d[:, 2] * sgn, d[:, 0]))  # 0 front, +90 lateral, -90 medial
        limb_angle[mine] = phi[mine]
        ant, post = np.abs(phi) < 50, np.abs(phi) > 130
        lat, med = (phi >= 50) & (phi <= 130), (phi <= -50) & (phi >= -130)
        thigh = mine & (y >= knee_y + 0.045)
        kneeb = mine & (y < knee_y + 0.045) & (y >= knee_y - 0.045)
        shank = mine & (y < knee_y - 0.045) & (y >= ankle_y + 0.02)
        foot = mine & (y < ankle_y + 0.02)
        for zone, names in ((thigh, ("anterior_thigh", "lateral_thigh", "posterior_thigh", "medial_thigh")),
                            (kneeb, ("knee_anterior", "knee_lateral", "knee_posterior", "knee_medial")),
                            (shank, ("anterior_shin", "lateral_calf", "posterior_calf", "medial_leg"))):
            for part, name in zip((ant, lat, post, med), names):
                region[zone & part] = R[name]
        fx = v[foot]
        bottom = fx[:, 1].min()
        toe_x = fx[:, 0].max()
        foot_mid_z = np.median(np.abs(fx[:, 2]))
        sel = np.nonzero(foot)[0]
        fy, fxx, fz = y[sel], x[sel], np.abs(z[sel])
        lab = np.full(len(sel), R["dorsum_foot"], np.int16)
        lab[fz > foot_mid_z + 0.025] = R["lateral_foot"]
        lab[fy < bottom + 0.012] = R["sole"]
        lab[fxx < ankle_c[0] - 0.015] = R["heel"]  # the back of the ankle and the heel
        toe = sk.points.get(f"big_toe_{k}")
        if toe is not None:  # the skin over the phalanges of the big toe
            from scipy.spatial import cKDTree

            near = cKDTree(toe).query(v[sel])[0] < 0.014
            lab[near & (fxx > toe.min(0)[0] - 0.005)] = R["big_toe"]
        else:
            lab[(fxx > toe_x - 0.045) & (fz < foot_mid_z - 0.005) & (fy >= bottom + 0.006)] = R["big_toe"]
        region[sel] = lab
    # anything left takes its nearest labelled neighbour along the skin
    region[outside] = -1
    region = _fill(region, f, v, keep=outside)
    region[outside] = -1
    mid_regions = {R[r] for r in vocabulary().regions if r not in vocabulary().sided_regions}
    side[np.isin(region, list(mid_regions)) | outside] = 0

    derm, variable = _dermatomes(v, f, region, R, y, az, theta, crest_y, psis_y, hip_y, knee_y, sk, outside)
    T = {t: i for i, t in enumerate(NERVE_TERRITORIES)}
    nerve = np.zeros(n, np.int8)
    lfcn = np.isin(region, [R["lateral_thigh"], R["anterior_thigh"]]) & (frac_thigh > 0.1) & (frac_thigh < 0.75)
    lfcn &= (limb_angle >= 15) & (limb_angle <= 120)
    nerve[lfcn] = T["lateral_femoral_cutaneous"]
    cluneal = back & (y < crest_top + 0.005) & (y > crest_top - 0.095) & (az > 0.04) & (az < 0.12) & trunk
    nerve[cluneal] = T["superior_cluneal"]
    apex_y = float(lm["sacrum_apex"][1])
    middle = back & trunk & (az > 0.02) & (az < 0.075) & (y < psis_y - 0.02) & (y > apex_y - 0.01)
    nerve[middle & ~cluneal] = T["middle_cluneal"]
    pfcn = np.isin(region, [R["posterior_thigh"], R["knee_posterior"]]) | (
        (region == R["buttock_lower_medial"]) & (y < it_y + 0.02) & ~middle)
    nerve[pfcn] = T["posterior_femoral_cutaneous"]
    nerve[(region == R["medial_leg"]) | ((region == R["knee_medial"]) & (y < knee_y))] = T["saphenous"]
    low_leg = y < knee_y - 0.2
    nerve[(region == R["lateral_foot"]) | ((region == R["posterior_calf"]) & low_leg & (limb_angle > 120)) |
          ((region == R["heel"]) & (limb_angle > 0))] = T["sural"]
    nerve[((region == R["lateral_calf"]) & (y < knee_y - 0.12)) | (region == R["dorsum_foot"])] = T["superficial_fibular"]
    for k, sgn in (("right", 1), ("left", -1)):
        web = lm.get(f"first_web_space_{k}")
        if web is not None:
            d = np.linalg.norm(v - web, axis=1)
            nerve[(s == sgn) & (d < 0.025) & np.isin(region, [R["dorsum_foot"], R["big_toe"]])] = T["deep_fibular"]
    nerve[outside] = 0
    region = region.astype(np.int16)
    return {"region": region, "side": side, "dermatome": derm, "dermatome_variable": variable, "nerve": nerve}


def outside_mask(v: np.ndarray, f: np.ndarray, sk: Skeleton) -> np.ndarray:
    """Head, arms and chest: the skin above the lower ribs (the top of T12's body) and both arms.

    Below the armpit the arms hang free of the trunk: in each 1-cm slice the pieces of skin
    connected within the slice that hold no vertex near the midline plane are arm. Higher up,
    where the inner arm touches the trunk, the arm is what lies further out than the trunk's
    half-width measured in the last free slice."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    y_top = float(sk.meshes["vertebra_t12"][0][:, 1].max())
    out = v[:, 1] > y_top
    e = np.vstack([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    hip_y = float(np.mean([sk.landmarks[f"acetabulum_centre_{k}"][1] for k in SIDES]))
    arm = np.zeros(len(v), bool)
    last_free = None
    for y0 in np.arange(hip_y - 0.30, y_top + 0.01, 0.01):
        band = (v[:, 1] >= y0 - 0.006) & (v[:, 1] < y0 + 0.006)
        ee = e[band[e[:, 0]] & band[e[:, 1]]]
        A = coo_matrix((np.ones(len(ee)), (ee[:, 0], ee[:, 1])), shape=(len(v), len(v)))
        _, comp = connected_components(A, directed=False)
        idx = np.flatnonzero(band)
        body_comps = np.unique(comp[idx[np.abs(v[idx, 2]) < 0.13]])
        a = idx[~np.isin(comp[idx], body_comps)]
        # pieces at thigh height that reach the midline plane are legs; others are arm
        a = a[np.abs(v[a, 2]) > 0.12]
        if len(a):
            arm[a] = True
            trunk = idx[np.isin(comp[idx], body_comps)]
            last_free = (y0, float(np.abs(v[trunk, 2]).max()))
    if last_free is not None:
        y_free, half = last_free
        arm |= (v[:, 1] > y_free) & (np.abs(v[:, 2]) > half + 0.004)
    return out | arm


def _limb_axis(v: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Per vertex, the centre of its limb's cross-section at that height (1 cm slices, smoothed)."""
    y = v[:, 1]
    lo, hi = y[members].min(), y[members].max()
    edges = np.arange(lo, hi + 0.01, 0.01)
    idx = np.clip(np.digitize(y[members], edges) - 1, 0, len(edges) - 2)
    cnt = np.bincount(idx, minlength=len(edges) - 1)
    cx = np.bincount(idx, v[members, 0], minlength=len(edges) - 1)
    cz = np.bincount(idx, v[members, 2], minlength=len(edges) - 1)
    ok = cnt > 0
    mids = (edges[:-1] + edges[1:])[ok] / 2
    kern = np.ones(5) / 5
    cxs = np.convolve(np.pad(cx[ok] / cnt[ok], 2, mode="edge"), kern, "valid")
    czs = np.convolve(np.pad(cz[ok] / cnt[ok], 2, mode="edge"), kern, "valid")
    return np.c_[np.interp(y, mids, cxs), y, np.interp(y, mids, czs)]


def _crest_height(sk: Skeleton, theta: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Height of the iliac crest seen from the trunk axis at each vertex's angle (and side)."""
    out = np.empty(len(theta))
    bins = np.linspace(0, 180, 37)
    for sgn, k in ((1.0, "right"), (-1.0, "left")):
        hv = sk.meshes[f"hip_bone_{k}"][0]
        hip_x = sk.landmarks[f"acetabulum_centre_{k}"][0]
        th = np.degrees(np.arctan2(np.abs(hv[:, 2]), hv[:, 0] - hip_x))
        tops = np.array([hv[(th >= a) & (th < b), 1].max() if ((th >= a) & (th < b)).any() else np.nan
                         for a, b in zip(bins[:-1], bins[1:])])
        centres = (bins[:-1] + bins[1:]) / 2
        ok = ~np.isnan(tops)
        mine = s == sgn
        out[mine] = np.interp(theta[mine], centres[ok], tops[ok])
    return out


def _graph(f: np.ndarray, v: np.ndarray):
    e = np.vstack([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    from scipy.sparse import coo_matrix

    w = np.linalg.norm(v[e[:, 0]] - v[e[:, 1]], axis=1)
    G = coo_matrix((np.r_[w, w], (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(len(v), len(v))).tocsr()
    return G


def _fill(labels: np.ndarray, f: np.ndarray, v: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Give unlabelled vertices the label of the nearest labelled vertex along the surface
    (vertices in `keep` are neither seeds nor filled)."""
    missing = labels < 0
    if keep is not None:
        missing &= ~keep
    if not missing.any():
        return labels
    G = _graph(f, v)
    seeds = np.nonzero(~missing & (labels >= 0))[0]
    _, _, src = dijkstra(G, directed=False, indices=seeds, min_only=True, return_predecessors=True)
    out = labels.copy()
    ok = src >= 0
    out[ok & missing] = labels[src[ok & missing]]
    return out


def _dermatomes(v, f, region, R, y, az, theta, crest_y, psis_y, hip_y, knee_y, sk, outside):
    D = {d: i for i, d in enumerate(DERMATOMES)}
    seed = np.full(len(v), -1, np.int16)
    hip_x = float(np.mean([sk.landmarks[f"acetabulum_centre_{k}"][0] for k in SIDES]))
    back = theta >= 100
    spin = {k: float(sk.meshes[f"vertebra_l{k}"][0][:, 1].mean()) for k in range(1, 6)}
    spin.update({f"T{k}": float(sk.meshes[f"vertebra_t{k}"][0][:, 1].mean()) for k in (10, 11, 12)})
    # posterior trunk: bands at the vertebral levels (dorsal rami), sloping down laterally
    slope = y + 0.8 * np.clip(az - 0.02, 0, None)
    trunk_back = back & np.isin(region, [R["low_back_central"], R["low_back_paraspinal"], R["flank"]]) & (theta >= 120)
    levels = [("T10", spin["T11"], 9), ("T11", spin["T12"], spin["T11"]), ("T12", spin[1] + 0.02, spin["T12"]),
              ("L1", spin[2], spin[1] + 0.02), ("L2", spin[3], spin[2]),
              ("L3", spin[4], spin[3]), ("L4", spin[5], spin[4]), ("L5", -9, spin[5])]
    for name, lo, hi in levels:
        seed[trunk_back & (slope >= lo) & (slope < hi)] = D[name]
    # front of the trunk: T10 at the umbilicus and above, T11 and T12 below it, L1 over the
    # inguinal band and groin
    umbilicus = float(np.mean([sk.landmarks[f"iliac_crest_top_{k}"][1] for k in SIDES])) + 0.015
    front = np.isin(region, [R["lower_abdomen"], R["flank"]]) & (theta < 120)
    seed[front & (y > umbilicus - 0.015)] = D["T10"]
    seed[front & (y <= umbilicus - 0.015) & (y > umbilicus - 0.045)] = D["T11"]
    seed[(region == R["lower_abdomen"]) & (y > hip_y + 0.09) & (y <= umbilicus - 0.045)] = D["T12"]
    seed[(region == R["groin"])] = D["L1"]
    seed[(region == R["lower_abdomen"]) & (y <= hip_y + 0.09)] = D["L1"]  # suprapubic
    seed[(region == R["iliac_crest"]) & (theta < 120)] = D["L1"]
    # L1 wraps round the trunk just above the crest, joining the back band to the groin
    seed[(region == R["flank"]) & (y < crest_y + 0.06)] = D["L1"]
    # Lee 2008 consistent areas of the lower limb
    frac = (hip_y - y) / (hip_y - knee_y)
    seed[np.isin(region, [R["anterior_thigh"], R["medial_thigh"]]) & (frac > 0.05) & (frac < 0.45) & (v[:, 0] > hip_x)] = D["L2"]
    seed[np.isin(region, [R["anterior_thigh"], R["medial_thigh"]]) & (frac >= 0.6)] = D["L3"]
    seed[np.isin(region, [R["knee_medial"], R["knee_anterior"]])] = D["L3"]
    seed[region == R["medial_leg"]] = D["L4"]
    seed[np.isin(region, [R["anterior_shin"], R["lateral_calf"], R["dorsum_foot"], R["big_toe"]])] = D["L5"]
    seed[np.isin(region, [R["lateral_foot"], R["heel"], R["sole"], R["posterior_calf"]])] = D["S1"]
    seed[region == R["posterior_thigh"]] = D["S2"]
    seed[np.isin(region, [R["perineum"], R["coccyx"]])] = D["S3"]
    seed[(region == R["buttock_lower_medial"]) & (az < 0.045)] = D["S3"]
    seed[region == R["sacroiliac"]] = D["S1"]
    # S4: round the anus, the centre of the perineum and the tip of the coccyx
    crotch = sk.landmarks["crotch"]
    seed[np.isin(region, [R["perineum"], R["coccyx"], R["buttock_lower_medial"]]) & (np.abs(v[:, 0] - (crotch[0] - 0.035)) < 0.03)
         & (az < 0.03) & (y < crotch[1] + 0.04)] = D["S4"]
    seed[outside] = -1
    variable = (seed < 0) & ~outside
    out = _fill(seed, f, v, keep=outside)
    out[outside] = -1
    return out.astype(np.int8), variable
