#!/usr/bin/python3
"""Privacy attacks on veil-blur's output (issue 3). Usage: see scripts/privacy-eval --help.

--part privacy runs the attacks (and their positive control); --part fidelity only measures the
patient's SSIM on veil-blur's background-mode output; --part all (default) does both.

Exit status: 0 every check of the selected part passed; 1 a privacy check failed on veil-blur
(something leaked), an attack failed its positive control (it could not break a weak blur, so
it proves nothing), or a fidelity check failed; 2 usage or environment error (missing
veil-blur, tesseract, Debian pictures).
"""

import argparse
import json
import pathlib
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from veil_privacy import attacks, evaluate, material, redactors, sources  # noqa: E402
from veil_privacy.ocr import TesseractMissing  # noqa: E402

SEED = 20241204
FIDELITY_SSIM = 0.95
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
    parser.add_argument("--part", choices=("all", "privacy", "fidelity"), default="all",
                        help="attacks, patient fidelity, or both (default)")
    parser.add_argument("--veil-blur", type=pathlib.Path, help="veil-blur executable")
    parser.add_argument("--models", type=pathlib.Path, help="passed to veil-blur --models")
    parser.add_argument("--out", type=pathlib.Path, help="work/output directory (default: temp)")
    parser.add_argument("--doc", type=pathlib.Path, default=REPO / "docs/privacy-evaluation.md",
                        help="report written in --full mode")
    return parser.parse_args()


def log(message):
    print(f"privacy-eval: {message}", flush=True)


def run_system(name, material_set, produce, plan, deep_ocr, face_allowed="patient",
               costly_clips=None, face_mode_control=False):
    def judge(outputs):
        result = evaluate.evaluate(material_set, outputs, plan, deep_ocr=deep_ocr,
                                   face_allowed=face_allowed, costly_clips=costly_clips)
        if face_mode_control:  # same frames the cascades already scanned: no extra detection
            costly = {"stills": outputs["stills"],
                      "clips": {n: f for n, f in outputs["clips"].items()
                                if costly_clips is None or n in costly_clips}}
            result.update(evaluate.face_mode(material_set, costly, plan,
                                             background_faces_only=True))
        return result

    return _timed_run(name, produce, judge)


def _timed_run(name, produce, judge):
    """Redacts with `produce()`, measures the outputs with `judge(outputs)`, logs the summary and
    where the time went; returns judge's result with outputs, summary, seconds and timings."""
    started = time.monotonic()
    evaluate.TIMINGS.clear()
    with evaluate.timed("redaction"):
        outputs = produce()
    result = judge(outputs)
    result["outputs"] = outputs
    result["summary"] = evaluate.summary(result)
    result["seconds"] = time.monotonic() - started
    result["timings"] = dict(evaluate.TIMINGS)
    log(f"{name}: {json.dumps(_rounded(result['summary']))} ({result['seconds']:.0f} s: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in evaluate.TIMINGS.items()) + ")")
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


def veil_outputs(veil, material_set, mode, clips=None):
    return lambda: {
        "stills": veil.stills(mode, {s.name: s.image for s in material_set.stills}),
        "clips": {c.name: veil.clip(mode, c.name, c.frames, c.fps) for c in material_set.clips
                  if clips is None or c.name in clips}}


def run_face_mode(veil, material_set, plan):
    """veil-blur --mode face on the stills and the plan's costly clips: only the face attack
    means something there (face modes leave the background visible by design)."""
    return _timed_run("veil-blur face",
                      veil_outputs(veil, material_set, "face", plan.face_mode_clips),
                      lambda outputs: evaluate.face_mode(material_set, outputs, plan))


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


def privacy_verdicts(results, face_mode):
    """Returns a list of (check, passed, detail): leaks on veil-blur and positive controls."""
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
    if face_mode is not None:
        rows = face_mode["face_mode"]
        leaks = [(r["sample"], (r["frame"], h)) for r in rows for h in r["leaks"]]
        others = sum(len(r["false_positives"]) for r in rows)
        checks.append(("veil-blur face mode: no attacker detection on a face of the input",
                        not leaks, _face_detail(leaks) + f" (input faces "
                        f"{sum(len(r['input_faces']) for r in rows)} in {len(rows)} frames; "
                        f"false positives off any face, not failing: {others})"))
    control = results["control-weak-blur"]["summary"]
    deconv = {code for row in results["control-weak-blur"]["ocr"]
              if row["attack"].startswith("deconvolved") for code in row["recovered"]}
    checks.append(("control: OCR recovers codes from a weak blur",
                   control["codes_recovered"] > 0, f"{control['codes_recovered']} codes"))
    checks.append(("control: deconvolution OCR recovers codes from a weak blur",
                   len(deconv) > 0, f"{len(deconv)} codes"))
    checks.append(("control: face detectors fire off the patient on a weak blur",
                   control["face_detections"] > 0, f"{control['face_detections']} detections"))
    control_faces = control["face_mode"]
    checks.append(("control: face-mode attack finds weak-blurred input faces",
                   control_faces["leaks"] > 0,
                   f"{control_faces['leaks']} detections on {control_faces['input_faces']} "
                   f"blurred input faces, {control_faces['frames']} frames"))
    checks.append(("control: edge leak detected on a weak blur", control["edge_leak_max"] > 0.01,
                   f"max {100 * control['edge_leak_max']:.1f}%"))
    checks.append(("control: bystander leak detected on a weak blur",
                   control["bystander_leaking_frames"] > 0,
                   f"{control['bystander_leaking_frames']}/{control['bystander_frames']} frames"))
    checks.append(("control: temporal attack beats the cutoff on a weak blur",
                   control["temporal_psnr_over_cutoff"] > 0,
                   f"{control['temporal_psnr_over_cutoff']:+.2f} dB"))
    return checks


def fidelity_verdicts(rows):
    """Patient SSIM >= 0.95 on every still and on every clip's mean (background mode)."""
    stills = [r for r in rows if r["frames"] == 1 and r["core_px"]]
    clips = [r for r in rows if r["frames"] > 1]
    return [
        ("veil-blur: patient SSIM >= 0.95 on every still",
         all(r["ssim"] >= FIDELITY_SSIM for r in stills),
         ", ".join(f"{r['sample']} {r['ssim']:.4f}" for r in stills)),
        ("veil-blur: patient SSIM >= 0.95 on every clip (mean over frames)",
         all(r["ssim"] >= FIDELITY_SSIM for r in clips),
         ", ".join(f"{r['sample']} {r['ssim']:.4f} (min frame {r['ssim_min']:.4f})"
                   for r in clips)),
    ]


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
    seconds, fps = 10, 10  # the same material in both runs; reduced keeps every 2nd frame
    started = time.monotonic()
    log(f"{'full' if full else 'reduced'} run ({args.part}), seed {SEED}, clips {seconds} s at "
        f"{fps} fps, every {plan.clip_step} frame(s) redacted and attacked, "
        f"veil-blur {veil_path}, work dir {out}")
    veil = redactors.VeilBlur(veil_path, out / "veil-blur", args.models)
    (out / "veil-blur").mkdir(exist_ok=True)
    results, base, face_mode, face_mode_note = {}, None, None, ""
    checks = []
    try:
        material_set = material.generate(SEED, seconds, fps, plan.clip_step)
        if args.part in ("all", "privacy"):
            base = baseline(material_set)
            log(f"baseline: input codes readable {sum(len(v) for v in base['codes'].values())} "
                f"in stills, {len(base['room_codes'])}/{len(material_set.clips[0].codes)} "
                f"in the room; faces off-patient in input stills "
                f"{sum(len(v) for v in base['faces'].values())}")
            results["control-weak-blur"] = run_system(
                "control-weak-blur", material_set,
                control_outputs(material_set, redactors.weak_blur), plan, deep_ocr=True,
                costly_clips=plan.costly_clips, face_mode_control=True)
            if full:
                results["control-cutoff"] = run_system(
                    "control-cutoff", material_set,
                    control_outputs(material_set, redactors.cutoff_fill), plan, deep_ocr=True,
                    costly_clips=plan.costly_clips)
            results["veil-blur"] = run_system("veil-blur", material_set,
                                              veil_outputs(veil, material_set, "background"),
                                              plan, deep_ocr=True)
            try:
                face_mode = run_face_mode(veil, material_set, plan)
            except redactors.VeilBlurRejected as rejected:
                face_mode_note = (f"SKIPPED face re-detection on face mode: veil-blur rejects "
                                  f"--mode face ({rejected})")
                log(face_mode_note)
            checks += privacy_verdicts(results, face_mode)
        if args.part in ("all", "fidelity"):
            if "veil-blur" in results:
                fidelity_rows = results["veil-blur"]["fidelity"]
            else:
                outputs = veil_outputs(veil, material_set, "background")()
                fidelity_rows = evaluate.fidelity(material_set, outputs, plan)
                results["veil-blur"] = {"fidelity": fidelity_rows, "outputs": outputs}
            log("fidelity: " + json.dumps(_rounded(evaluate.fidelity_summary(fidelity_rows))))
            checks += fidelity_verdicts(fidelity_rows)
    except (sources.MissingSource, TesseractMissing) as missing:
        log(f"environment: {missing}")
        return 2
    for name, passed, detail in checks:
        log(f"{'PASS' if passed else 'FAIL'} {name}: {detail}")
    _write_json(out / "results.json", results, face_mode, base, checks, face_mode_note, veil)
    if full and args.part == "all":
        from veil_privacy import report
        report.write(args.doc, material_set, base, results, face_mode, face_mode_note, checks,
                     plan, seconds, fps, SEED, veil, time.monotonic() - started)
        log(f"wrote {args.doc}")
    log(f"{time.monotonic() - started:.0f} s")
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
