"""Runs every attack on one redaction system's output and returns plain results (no images
except a few kept for the report)."""

import collections
import contextlib
import time

import numpy as np

from . import attacks, metrics

# Seconds spent per attack since the last reset (printed per system: where the run's time goes).
TIMINGS = collections.defaultdict(float)


@contextlib.contextmanager
def timed(name):
    started = time.monotonic()
    try:
        yield
    finally:
        TIMINGS[name] += time.monotonic() - started


def _clip_frames(frames, step):
    return list(range(0, len(frames), step))


def _costly(clip_name, costly_clips):
    return costly_clips is None or clip_name in costly_clips


def evaluate(material, outputs, plan, deep_ocr=True, face_allowed="patient", costly_clips=None):
    """`outputs`: {"stills": {name: image}, "clips": {name: [frames]}}.

    face_allowed: "patient" (background mode: detections on the patient's own face are fine) or
    None (every detection counts). costly_clips: clip names that get OCR (frames and
    deconvolved) and face detection (None = all); the stills always get them. Used for the
    positive control, which only has to show each attack CAN succeed; veil-blur gets them all."""
    with timed("fidelity"):
        result = {"ocr": [], "temporal": [], "edge": [], "bystander": [], "faces": [],
                  "fidelity": fidelity(material, outputs, plan)}
    # Stills.
    for still in material.stills:
        out = outputs["stills"][still.name]
        with timed("ocr"):
            if deep_ocr:
                result["ocr"] += attacks.ocr_attack(still.name, [out], still.codes, plan)
            else:
                result["ocr"].append({"sample": still.name, "attack": "frames", "images": 1,
                                      "recovered": attacks.codes_read([out], still.codes)})
        with timed("edge"):
            edge = attacks.edge_leak(still.image, out, still.patient, still.ignore)
        result["edge"].append({"sample": still.name, "frames": 1, **edge})
        allowed = attacks.allowed_face_zone(still.patient) if face_allowed else None
        with timed("faces"):
            hits = attacks.attacker_faces(out, allowed)
        result["faces"].append({"sample": still.name, "frames": 1,
                                "hits": [(0, h) for h in hits]})
    # Clips.
    for clip in material.clips:
        frames = outputs["clips"][clip.name]
        costly = _costly(clip.name, costly_clips)
        picks = _clip_frames(frames, plan.ocr_frame_step)
        subset = [frames[i] for i in picks]
        with timed("ocr"):
            if not costly:
                rows = []
            elif deep_ocr:
                rows = attacks.ocr_attack(clip.name, subset, clip.codes, plan)
            else:
                rows = [{"sample": clip.name, "attack": "frames", "images": len(subset),
                         "recovered": attacks.codes_read(subset, clip.codes)}]
        for row in rows:  # report frame numbers, not subset positions
            if row["attack"].endswith("frames"):
                row["recovered"] = {code: [picks[i] for i in where]
                                    for code, where in row["recovered"].items()}
        result["ocr"] += rows
        with timed("temporal"):
            temporal_rows = attacks.temporal_attack(clip, frames)
        for row in temporal_rows:
            result["temporal"].append(row)
            result["ocr"].append({"sample": clip.name, "attack": f"temporal {row['reconstruction']}",
                                  "images": 1, "recovered": row["recovered"]})
        textured = leaked = 0
        worst = (0.0, None, [])
        for index in _clip_frames(frames, plan.edge_frame_step):
            with timed("edge"):
                edge = attacks.edge_leak(clip.frames[index], frames[index], clip.patient[index])
            textured += edge["textured_px"]
            leaked += edge["leaked_px"]
            if edge["fraction"] > worst[0]:
                worst = (edge["fraction"], index, edge["blocks"])
        result["edge"].append({"sample": clip.name,
                               "frames": len(_clip_frames(frames, plan.edge_frame_step)),
                               "textured_px": textured, "leaked_px": leaked,
                               "fraction": leaked / textured if textured else 0.0,
                               "worst_frame": worst[1], "worst_fraction": worst[0],
                               "worst_blocks": worst[2]})
        if costly:
            face_hits = []
            for index in attacks.face_frames(len(frames), plan):
                allowed = (attacks.allowed_face_zone(clip.patient[index]) if face_allowed
                           else None)
                with timed("faces"):
                    face_hits += [(index, hit)
                                  for hit in attacks.attacker_faces(frames[index], allowed)]
            result["faces"].append({"sample": clip.name,
                                    "frames": len(attacks.face_frames(len(frames), plan)),
                                    "hits": face_hits})
        if any(m is not None for m in clip.bystander):
            with timed("bystander"):
                result["bystander"] = attacks.bystander_attack(clip, frames)
    return result


def fidelity(material, outputs, plan):
    """Patient SSIM and lost pixels on every still and on clip frames (edge-attack frames)."""
    rows = []
    for still in material.stills:
        rows.append({"sample": still.name, "frames": 1,
                     **attacks.fidelity(still.image, outputs["stills"][still.name],
                                        still.patient)})
    for clip in material.clips:
        if clip.name not in outputs["clips"]:
            continue
        frames = outputs["clips"][clip.name]
        per_frame = [attacks.fidelity(clip.frames[i], frames[i], clip.patient[i])
                     for i in _clip_frames(frames, plan.edge_frame_step)]
        rows.append({
            "sample": clip.name, "frames": len(per_frame),
            "ssim": float(np.mean([r["ssim"] for r in per_frame])),
            "ssim_min": float(np.min([r["ssim"] for r in per_frame])),
            "lost": float(np.mean([r["lost"] for r in per_frame])),
            "lost_max": float(np.max([r["lost"] for r in per_frame])),
            "core_px": int(np.mean([r["core_px"] for r in per_frame]))})
    return rows


def face_mode(material, outputs, plan, background_faces_only=False):
    """The face-mode attack on every still and on the clips present in `outputs`: attacker
    detections landing on a face of the input (leaks) and elsewhere (false positives).

    background_faces_only: score only input faces off the patient (grown by margin + 10 px);
    used on the weak-blur control, which blurs the background but leaves the patient sharp."""
    rows = []

    def score(sample, index, frame_in, frame_out, known, patient):
        with timed("faces"):
            faces_in = attacks.input_faces(frame_in, known)
            leaks, others = attacks.face_mode_hits(frame_out, faces_in)
        if background_faces_only:
            zone = attacks.allowed_face_zone(patient)
            faces_in = [f for f in faces_in if not _centre_in(f[1], zone)]
            leaks = [h for h in leaks if any(attacks.iou(h[1], f[1]) > attacks.SAME_FACE_IOU
                                             for f in faces_in)]
        return {"sample": sample, "frame": index, "input_faces": [list(f) for f in faces_in],
                "leaks": leaks, "false_positives": others}

    for still in material.stills:
        rows.append(score(still.name, 0, still.image, outputs["stills"][still.name],
                          still.face_truth, still.patient))
    for clip in material.clips:
        if clip.name not in outputs["clips"]:
            continue
        frames = outputs["clips"][clip.name]
        for index in attacks.face_frames(len(frames), plan):
            rows.append(score(clip.name, index, clip.frames[index], frames[index],
                              clip.face_truth[index], clip.patient[index]))
    return {"face_mode": rows}


def _centre_in(rect, zone):
    x, y, w, h = rect
    cx = min(max(x + w // 2, 0), zone.shape[1] - 1)
    cy = min(max(y + h // 2, 0), zone.shape[0] - 1)
    return zone[cy, cx] > 0


def codes_recovered(result):
    found = set()
    for row in result["ocr"]:
        for code in row["recovered"]:
            found.add((row["sample"], code))
    return found


def fidelity_summary(rows):
    return {
        "still_ssim_min": min((r["ssim"] for r in rows if r["frames"] == 1 and r["core_px"]),
                              default=1.0),
        "clip_ssim_min_mean": min((r["ssim"] for r in rows if r["frames"] > 1), default=1.0),
    }


def face_mode_summary(rows):
    return {"frames": len(rows),
            "input_faces": sum(len(r["input_faces"]) for r in rows),
            "leaks": sum(len(r["leaks"]) for r in rows),
            "false_positives": sum(len(r["false_positives"]) for r in rows)}


def summary(result):
    """Headline numbers for one system."""
    if "face_mode" in result and "ocr" not in result:
        return face_mode_summary(result["face_mode"])
    edge_textured = sum(r["textured_px"] for r in result["edge"])
    edge_leaked = sum(r["leaked_px"] for r in result["edge"])
    out = {
        "codes_recovered": len({code for _, code in codes_recovered(result)}),
        "face_detections": sum(len(r["hits"]) for r in result["faces"]),
        "edge_leak_max": max((r["fraction"] for r in result["edge"]), default=0.0),
        "edge_leak_overall": edge_leaked / edge_textured if edge_textured else 0.0,
        "bystander_frames": len(result["bystander"]),
        "bystander_leaking_frames": sum(1 for r in result["bystander"] if r["leaks"]),
        "temporal_psnr_over_cutoff": max((r["psnr"] - r["psnr_cutoff"]
                                          for r in result["temporal"]), default=-99.0),
        "temporal_psnr_over_flat": max((r["psnr"] - r["psnr_flat"]
                                        for r in result["temporal"]), default=-99.0),
        "temporal_detail_leak_max": max((r["detail_leak"] for r in result["temporal"]),
                                        default=0.0),
        **fidelity_summary(result["fidelity"]),
    }
    if "face_mode" in result:
        out["face_mode"] = face_mode_summary(result["face_mode"])
    return out


def metrics_constants():
    return {"cutoff_fraction": metrics.CUTOFF_FRACTION,
            "safety_margin_fraction": metrics.SAFETY_MARGIN_FRACTION,
            "block": metrics.BLOCK, "correlation_limit": metrics.CORRELATION_LIMIT,
            "high_pass_sigma": metrics.HIGH_PASS_SIGMA,
            "texture_min_std": metrics.TEXTURE_MIN_STD,
            "output_min_std": metrics.OUTPUT_MIN_STD}
