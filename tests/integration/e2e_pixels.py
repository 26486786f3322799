#!/usr/bin/python3
"""Pixel checks for the media e2e tests: how much detail survives in a received frame.

Compares a received frame (from the browser canvas or decoded from the SFU tap) with the source
still and with what the engine makes of it offline (veil-blur output of the same still):
  - regions: "protected" = pixels the redactor replaced, "patient" = pixels it kept, both shrunk by
    a margin so codec ringing at the boundary does not count;
  - high-pass (Laplacian) energy of each region relative to the source's;
  - design.md §6 "nothing survives": 8x8 blocks of the protected region whose high-pass content
    correlates with the source's above 0.3 at a visible amplitude (see block_correlations);
  - PSNR against the offline redaction (is this the same picture at all).
Prints one JSON object. Uses Debian's python3-opencv / numpy (run with /usr/bin/python3).
"""
import argparse
import json
import sys

import cv2
import numpy as np

MARGIN_PX = 12
BLOCK = 8
FLAT_STD = 1.0
AMPLITUDE_FRACTION = 0.5


def load_frame(args, path, size):
    if args.frame_raw:
        raw = np.fromfile(args.frame_raw, dtype=np.uint8)
        rgba = raw.reshape(args.height, args.width, 4)
        frame = cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR)
    else:
        frame = cv2.imread(path, cv2.IMREAD_COLOR)
        if frame is None:
            sys.exit(f"cannot read {path}")
    if (frame.shape[1], frame.shape[0]) != size:
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    return frame


def high_pass(bgr):
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return cv2.Laplacian(gray, cv2.CV_32F, ksize=3)


def regions(source, expected):
    diff = np.abs(source.astype(np.int16) - expected.astype(np.int16)).max(axis=2)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * MARGIN_PX + 1, 2 * MARGIN_PX + 1))
    protected = cv2.erode((diff > 24).astype(np.uint8), kernel) > 0
    patient = cv2.erode((diff <= 2).astype(np.uint8), kernel) > 0
    return protected, patient


def block_correlations(frame_hp, source_hp, protected):
    """(correlation, carries_detail) per 8x8 block of the protected region with source detail.

    design.md §6 sets the bar at a correlation of 0.3 for the redactor's (lossless) output. After a
    lossy codec a flat fill carries a little noise, and with 64 samples a correlation of 0.3 with
    anything happens by chance now and then. Detail that survived keeps its amplitude through the
    codec (the patient region keeps ~100% of its high-pass energy), so a block counts as carrying
    the source's detail only when it correlates above 0.3 AND has at least half the source's
    high-pass amplitude. Raw correlations are reported too.
    """
    blocks = []
    height, width = protected.shape
    for y in range(0, height - BLOCK + 1, BLOCK):
        for x in range(0, width - BLOCK + 1, BLOCK):
            if not protected[y:y + BLOCK, x:x + BLOCK].all():
                continue
            a = frame_hp[y:y + BLOCK, x:x + BLOCK].ravel()
            b = source_hp[y:y + BLOCK, x:x + BLOCK].ravel()
            if b.std() < 2.0:
                continue  # no detail in the source here: nothing that could survive
            if a.std() < FLAT_STD:
                blocks.append((0.0, False))  # below a grey level of high-pass: nothing visible
                continue
            correlation = float(np.corrcoef(a, b)[0, 1])
            blocks.append((correlation,
                           correlation > 0.3 and a.std() >= AMPLITUDE_FRACTION * b.std()))
    return blocks


def psnr(a, b):
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return 99.0 if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    parser.add_argument("--expected", required=True, help="veil-blur output of --source")
    parser.add_argument("--frame", action="append", default=[],
                        help="received frame (PNG); repeat for several (prints a JSON list)")
    parser.add_argument("--frame-raw", help="received frame, raw RGBA")
    parser.add_argument("--leak-control", action="store_true",
                        help="measure a control instead: the offline redaction with one 64x64 "
                             "patch of the source background pasted back (must be caught)")
    parser.add_argument("--width", type=int)
    parser.add_argument("--height", type=int)
    args = parser.parse_args()

    source = cv2.imread(args.source, cv2.IMREAD_COLOR)
    expected = cv2.imread(args.expected, cv2.IMREAD_COLOR)
    if source is None or expected is None or source.shape != expected.shape:
        sys.exit("cannot read source/expected of the same size")
    size = (source.shape[1], source.shape[0])
    protected, patient = regions(source, expected)
    source_hp = high_pass(source)
    if args.leak_control:
        print(json.dumps(measure(leak_control(source, expected, protected), source, expected,
                                 source_hp, protected, patient)))
    elif args.frame_raw:
        print(json.dumps(measure(load_frame(args, None, size), source, expected, source_hp,
                                 protected, patient)))
    else:
        results = [measure(load_frame(args, path, size), source, expected, source_hp, protected,
                           patient) for path in args.frame]
        print(json.dumps(results[0] if len(results) == 1 else results))


def leak_control(source, expected, protected, size=64):
    """The offline redaction with one size x size patch of detailed source background put back."""
    source_hp = np.abs(high_pass(source))
    best, best_energy = None, -1.0
    for y in range(0, protected.shape[0] - size + 1, 16):
        for x in range(0, protected.shape[1] - size + 1, 16):
            if protected[y:y + size, x:x + size].all():
                energy = float(source_hp[y:y + size, x:x + size].mean())
                if energy > best_energy:
                    best, best_energy = (y, x), energy
    if best is None:
        sys.exit("no protected area large enough for the leak control")
    frame = expected.copy()
    y, x = best
    frame[y:y + size, x:x + size] = source[y:y + size, x:x + size]
    return frame


def measure(frame, source, expected, source_hp, protected, patient):
    frame_hp = high_pass(frame)

    def energy(hp, region):
        return float(np.abs(hp[region]).mean()) if region.any() else 0.0

    blocks = block_correlations(frame_hp, source_hp, protected)
    correlations = [correlation for correlation, _ in blocks]
    result = {
        "protected_fraction": float(protected.mean()),
        "patient_fraction": float(patient.mean()),
        "source_protected_energy": energy(source_hp, protected),
        "frame_protected_energy": energy(frame_hp, protected),
        "source_patient_energy": energy(source_hp, patient),
        "frame_patient_energy": energy(frame_hp, patient),
        "blocks_checked": len(correlations),
        "max_block_correlation": max(correlations) if correlations else None,
        "blocks_over_0_3": sum(1 for c in correlations if c > 0.3),
        "blocks_with_surviving_detail": sum(1 for _, survived in blocks if survived),
        "psnr_vs_expected": psnr(frame, expected),
        "psnr_vs_source": psnr(frame, source),
    }
    result["protected_energy_ratio"] = (result["frame_protected_energy"] /
                                        max(result["source_protected_energy"], 1e-6))
    result["patient_energy_ratio"] = (result["frame_patient_energy"] /
                                      max(result["source_patient_energy"], 1e-6))
    return result


if __name__ == "__main__":
    main()
