"""Runs every attack on one redaction system's output and returns plain results (no images
except a few kept for the report)."""

import numpy as np

from . import attacks, metrics


def _clip_frames(frames, step):
    return list(range(0, len(frames), step))


def evaluate(material, outputs, plan, deep_ocr=True, face_allowed="patient"):
    """`outputs`: {"stills": {name: image}, "clips": {name: [frames]}}.

    face_allowed: "patient" (background mode: detections on the patient's own face are fine) or
    None (face modes: every detection counts)."""
    result = {"ocr": [], "temporal": [], "edge": [], "bystander": [], "faces": [],
              "fidelity": []}
    # Stills.
    for still in material.stills:
        out = outputs["stills"][still.name]
        if deep_ocr:
            result["ocr"] += attacks.ocr_attack(still.name, [out], still.codes, plan)
        else:
            result["ocr"].append({"sample": still.name, "attack": "frames", "images": 1,
                                  "recovered": attacks.codes_read([out], still.codes)})
        edge = attacks.edge_leak(still.image, out, still.patient, still.ignore)
        result["edge"].append({"sample": still.name, "frames": 1, **edge})
        allowed = attacks.allowed_face_zone(still.patient) if face_allowed else None
        result["faces"].append({"sample": still.name, "frames": 1,
                                "hits": [(0, h) for h in attacks.attacker_faces(out, allowed)]})
        result["fidelity"].append({"sample": still.name, "frames": 1,
                                   **attacks.fidelity(still.image, out, still.patient)})
    # Clips.
    for clip in material.clips:
        frames = outputs["clips"][clip.name]
        picks = _clip_frames(frames, plan.ocr_frame_step)
        subset = [frames[i] for i in picks]
        if deep_ocr:
            rows = attacks.ocr_attack(clip.name, subset, clip.codes, plan)
        else:
            rows = [{"sample": clip.name, "attack": "frames", "images": len(subset),
                     "recovered": attacks.codes_read(subset, clip.codes)}]
        for row in rows:  # report frame numbers, not subset positions
            if row["attack"].endswith("frames"):
                row["recovered"] = {code: [picks[i] for i in where]
                                    for code, where in row["recovered"].items()}
        result["ocr"] += rows
        for row in attacks.temporal_attack(clip, frames):
            result["temporal"].append(row)
            result["ocr"].append({"sample": clip.name, "attack": f"temporal {row['reconstruction']}",
                                  "images": 1, "recovered": row["recovered"]})
        textured = leaked = 0
        worst = (0.0, None)
        fidelity_rows = []
        face_hits = []
        for index in _clip_frames(frames, plan.edge_frame_step):
            edge = attacks.edge_leak(clip.frames[index], frames[index], clip.patient[index])
            textured += edge["textured_px"]
            leaked += edge["leaked_px"]
            if edge["fraction"] > worst[0]:
                worst = (edge["fraction"], index)
            fidelity_rows.append(attacks.fidelity(clip.frames[index], frames[index],
                                                  clip.patient[index]))
        for index in _clip_frames(frames, plan.face_frame_step):
            allowed = attacks.allowed_face_zone(clip.patient[index]) if face_allowed else None
            face_hits += [(index, hit) for hit in attacks.attacker_faces(frames[index], allowed)]
        result["edge"].append({"sample": clip.name,
                               "frames": len(_clip_frames(frames, plan.edge_frame_step)),
                               "textured_px": textured, "leaked_px": leaked,
                               "fraction": leaked / textured if textured else 0.0,
                               "worst_frame": worst[1], "worst_fraction": worst[0]})
        result["faces"].append({"sample": clip.name,
                                "frames": len(_clip_frames(frames, plan.face_frame_step)),
                                "hits": face_hits})
        result["fidelity"].append({
            "sample": clip.name, "frames": len(fidelity_rows),
            "ssim": float(np.mean([r["ssim"] for r in fidelity_rows])),
            "ssim_min": float(np.min([r["ssim"] for r in fidelity_rows])),
            "lost": float(np.mean([r["lost"] for r in fidelity_rows])),
            "lost_max": float(np.max([r["lost"] for r in fidelity_rows])),
            "core_px": int(np.mean([r["core_px"] for r in fidelity_rows]))})
        if clip.bystander[0] is not None or any(m is not None for m in clip.bystander):
            result["bystander"] = attacks.bystander_attack(clip, frames)
    return result


def codes_recovered(result):
    found = set()
    for row in result["ocr"]:
        for code in row["recovered"]:
            found.add((row["sample"], code))
    return found


def summary(result):
    """Headline numbers for one system."""
    edge_textured = sum(r["textured_px"] for r in result["edge"])
    edge_leaked = sum(r["leaked_px"] for r in result["edge"])
    return {
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
        "still_ssim_min": min((r["ssim"] for r in result["fidelity"] if r["frames"] == 1
                               and r["core_px"]), default=1.0),
        "clip_ssim_min_mean": min((r["ssim"] for r in result["fidelity"] if r["frames"] > 1),
                                  default=1.0),
    }


def metrics_constants():
    return {"cutoff_fraction": metrics.CUTOFF_FRACTION,
            "safety_margin_fraction": metrics.SAFETY_MARGIN_FRACTION,
            "block": metrics.BLOCK, "correlation_limit": metrics.CORRELATION_LIMIT,
            "high_pass_sigma": metrics.HIGH_PASS_SIGMA,
            "texture_min_std": metrics.TEXTURE_MIN_STD,
            "output_min_std": metrics.OUTPUT_MIN_STD}
