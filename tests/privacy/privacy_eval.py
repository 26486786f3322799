#!/usr/bin/python3
"""Privacy attacks on veil-blur's output (issue 3). Usage: see scripts/privacy-eval --help.

Exit status: 0 every check passed; 1 a privacy or fidelity check failed on veil-blur, or an
attack failed its positive control (it could not break a weak blur, so it proves nothing);
2 usage or environment error (missing veil-blur, tesseract, Debian pictures).
"""

import argparse
import json
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from veil_privacy import attacks, evaluate, material, redactors, sources  # noqa: E402
from veil_privacy.ocr import TesseractMissing  # noqa: E402

SEED = 20241204
REPO = pathlib.Path(__file__).resolve().parents[2]


def find_veil_blur():
    candidates = sorted(REPO.glob("build*/cli/veil-blur"), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true",
                      help="all frames, more deblurring, controls; writes the report")
    size.add_argument("--reduced", action="store_true", help="the CI subset (default)")
    parser.add_argument("--veil-blur", type=pathlib.Path, help="veil-blur executable")
    parser.add_argument("--models", type=pathlib.Path, help="passed to veil-blur --models")
    parser.add_argument("--out", type=pathlib.Path, help="work/output directory (default: temp)")
    parser.add_argument("--doc", type=pathlib.Path, default=REPO / "docs/privacy-evaluation.md",
                        help="report written in --full mode")
    return parser.parse_args()


def log(message):
    print(f"privacy-eval: {message}", flush=True)


def run_system(name, material_set, produce, plan, deep_ocr, face_allowed="patient"):
    started = time.monotonic()
    outputs = produce()
    result = evaluate.evaluate(material_set, outputs, plan, deep_ocr=deep_ocr,
                               face_allowed=face_allowed)
    result["outputs"] = outputs
    result["summary"] = evaluate.summary(result)
    result["seconds"] = time.monotonic() - started
    log(f"{name}: {json.dumps(_rounded(result['summary']))} ({result['seconds']:.0f} s)")
    return result


def _rounded(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def control_outputs(material_set, function):
    return lambda: {
        "stills": {s.name: function(s.image, s.patient) for s in material_set.stills},
        "clips": {c.name: [function(f, p) for f, p in zip(c.frames, c.patient)]
                  for c in material_set.clips}}


def veil_outputs(veil, material_set, mode):
    return lambda: {
        "stills": veil.stills(mode, {s.name: s.image for s in material_set.stills}),
        "clips": {c.name: veil.clip(mode, c.name, c.frames, c.fps) for c in material_set.clips}}


def baseline(material_set):
    """What the attacker would get with no redaction: the upper bound each attack aims for."""
    codes = {}
    for still in material_set.stills:
        codes[still.name] = attacks.codes_read([still.image], still.codes)
    room_codes = attacks.codes_read([material_set.room], material_set.clips[0].codes)
    faces = {}
    for still in material_set.stills:
        faces[still.name] = attacks.attacker_faces(still.image,
                                                   attacks.allowed_face_zone(still.patient))
    return {"codes": codes, "room_codes": room_codes, "faces": faces}


def verdicts(results, face_mode):
    """Returns a list of (check, passed, detail)."""
    checks = []
    veil = results["veil-blur"]["summary"]
    recovered = sorted(evaluate.codes_recovered(results["veil-blur"]))
    checks.append(("veil-blur: no code recovered by any OCR attack", not recovered,
                   ", ".join(f"{code} ({sample})" for sample, code in recovered) or "none"))
    face_hits = [(r["sample"], h) for r in results["veil-blur"]["faces"] for h in r["hits"]]
    checks.append(("veil-blur background: no attacker face detection off the patient",
                   not face_hits, _face_detail(face_hits)))
    checks.append(("veil-blur: edge leak <= 1% on every sample", veil["edge_leak_max"] <= 0.01,
                   ", ".join(f"{r['sample']} {100 * r['fraction']:.2f}%"
                             for r in results["veil-blur"]["edge"])))
    leaking = [r for r in results["veil-blur"]["bystander"] if r["leaks"]]
    checks.append(("veil-blur: bystander redacted in every frame", not leaking,
                   _bystander_detail(leaking, veil["bystander_frames"])))
    checks.append(("veil-blur: temporal reconstruction no better than the 1/32 cutoff",
                   veil["temporal_psnr_over_cutoff"] <= 0.0,
                   f"best PSNR minus cutoff PSNR {veil['temporal_psnr_over_cutoff']:+.2f} dB"))
    checks.append(("veil-blur: patient SSIM >= 0.95 on every still",
                   veil["still_ssim_min"] >= 0.95, f"min {veil['still_ssim_min']:.4f}"))
    if face_mode is not None:
        hits = [(r["sample"], h) for r in face_mode["faces"] for h in r["hits"]]
        checks.append(("veil-blur face mode: zero detections", not hits, _face_detail(hits)))
    control = results["control-weak-blur"]["summary"]
    checks.append(("control: OCR recovers codes from a weak blur",
                   control["codes_recovered"] > 0, f"{control['codes_recovered']} codes"))
    checks.append(("control: face detectors fire on a weak blur",
                   control["face_detections"] > 0, f"{control['face_detections']} detections"))
    checks.append(("control: edge leak detected on a weak blur", control["edge_leak_max"] > 0.01,
                   f"max {100 * control['edge_leak_max']:.1f}%"))
    checks.append(("control: bystander leak detected on a weak blur",
                   control["bystander_leaking_frames"] > 0,
                   f"{control['bystander_leaking_frames']}/{control['bystander_frames']} frames"))
    checks.append(("control: temporal attack beats the cutoff on a weak blur",
                   control["temporal_psnr_over_cutoff"] > 0,
                   f"{control['temporal_psnr_over_cutoff']:+.2f} dB"))
    return checks


def _face_detail(hits):
    if not hits:
        return "none"
    shown = [f"{sample} frame {frame} {name} at {rect}" for sample, (frame, (name, rect))
             in hits[:6]]
    return f"{len(hits)}: " + "; ".join(shown)


def _bystander_detail(leaking, total):
    if not leaking:
        return f"0/{total} frames leak"
    shown = [f"frame {r['frame']} box {r['box']} block-leak {100 * r['leak']:.1f}% "
             f"shown {100 * r['shown']:.0f}%" for r in leaking[:6]]
    return f"{len(leaking)}/{total} frames leak: " + "; ".join(shown)


def main():
    args = parse_args()
    full = bool(args.full)
    plan = attacks.FULL if full else attacks.REDUCED
    veil_path = args.veil_blur or find_veil_blur()
    if veil_path is None or not pathlib.Path(veil_path).exists():
        log("veil-blur not found: build it (cmake --build BUILD --target veil-blur) "
            "or pass --veil-blur PATH")
        return 2
    out = args.out or pathlib.Path(tempfile.mkdtemp(prefix="veil-privacy-"))
    out.mkdir(parents=True, exist_ok=True)
    seconds, fps = (16, 12) if full else (10, 10)
    log(f"{'full' if full else 'reduced'} run, seed {SEED}, clips {seconds} s at {fps} fps, "
        f"veil-blur {veil_path}, work dir {out}")
    try:
        material_set = material.generate(SEED, seconds, fps)
        base = baseline(material_set)
        log(f"baseline: input codes readable {sum(len(v) for v in base['codes'].values())} "
            f"in stills, {len(base['room_codes'])}/{len(material_set.clips[0].codes)} "
            f"in the room; faces off-patient in input stills "
            f"{sum(len(v) for v in base['faces'].values())}")
        veil = redactors.VeilBlur(veil_path, out / "veil-blur", args.models)
        (out / "veil-blur").mkdir(exist_ok=True)
        results = {}
        results["control-weak-blur"] = run_system(
            "control-weak-blur", material_set,
            control_outputs(material_set, redactors.weak_blur), plan, deep_ocr=full)
        if full:
            results["control-cutoff"] = run_system(
                "control-cutoff", material_set,
                control_outputs(material_set, redactors.cutoff_fill), plan, deep_ocr=True)
        results["veil-blur"] = run_system("veil-blur", material_set,
                                          veil_outputs(veil, material_set, "background"),
                                          plan, deep_ocr=True)
        face_mode = None
        face_mode_note = ""
        try:
            face_mode = run_system("veil-blur face", material_set,
                                   veil_outputs(veil, material_set, "face"), plan,
                                   deep_ocr=False, face_allowed=None)
        except redactors.VeilBlurRejected as rejected:
            face_mode_note = (f"SKIPPED face re-detection on face mode: veil-blur rejects "
                              f"--mode face ({rejected})")
            log(face_mode_note)
    except (sources.MissingSource, TesseractMissing) as missing:
        log(f"environment: {missing}")
        return 2
    checks = verdicts(results, face_mode)
    for name, passed, detail in checks:
        log(f"{'PASS' if passed else 'FAIL'} {name}: {detail}")
    _write_json(out / "results.json", results, face_mode, base, checks, face_mode_note, veil)
    if full:
        from veil_privacy import report
        report.write(args.doc, material_set, base, results, face_mode, face_mode_note, checks,
                     plan, seconds, fps, SEED, veil)
        log(f"wrote {args.doc}")
    return 0 if all(passed for _, passed, _ in checks) else 1


def _write_json(path, results, face_mode, base, checks, face_mode_note, veil):
    def strip(result):
        return {k: v for k, v in result.items() if k != "outputs"}

    def clean(value):
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items() if k != "image"}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if hasattr(value, "item"):
            return value.item()
        return value

    payload = {"systems": {n: strip(r) for n, r in results.items()},
               "face_mode": strip(face_mode) if face_mode else face_mode_note,
               "baseline": base, "checks": checks, "veil_blur_runs": veil.log}
    path.write_text(json.dumps(_rounded(clean(payload)), indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
