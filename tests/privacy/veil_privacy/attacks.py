"""The attacks. Each reads only redacted pixels, as an attacker at the SFU would; ground truth is
used only to score them (and, for the crop OCR, to grant the attacker where to look)."""

import dataclasses
import hashlib

import cv2
import numpy as np

from . import deconv, metrics, ocr, sources

FACE_CASCADES = {
    "haar-frontal-default": "haarcascades/haarcascade_frontalface_default.xml",
    "haar-frontal-alt2": "haarcascades/haarcascade_frontalface_alt2.xml",
    "haar-profile": "haarcascades/haarcascade_profileface.xml",
    "lbp-frontal-improved": "lbpcascades/lbpcascade_frontalface_improved.xml",
    "lbp-profile": "lbpcascades/lbpcascade_profileface.xml",
}
# Cascades that look for a frontal face: one of them alone, on a known face place, is a face.
FRONTAL_CASCADES = ("haar-frontal-default", "haar-frontal-alt2", "lbp-frontal-improved")
SAME_FACE_IOU = 0.3  # two boxes are the same face when their IoU exceeds this
ON_KNOWN_FACE = 0.5  # a detection lies on a known face place when this share of it is inside
EDGE_RING_PX = 16
LOST_DIFFERENCE = 25  # grey levels of local mean difference: the pixel no longer shows the patient


@dataclasses.dataclass
class Plan:
    """How much of the material each attack sees (reduced for CI, full for the report).

    Frame steps count frames of the clip as redacted (after `clip_step` subsampling). Every
    attack runs in both plans; the reduced one shows each of them fewer frames."""
    clip_step: int  # keep every clip_step-th generated frame (same material, fewer frames)
    ocr_frame_step: int
    deconv_frames_per_clip: int
    deconv_sigmas: tuple
    face_frame_step: int  # face detection at frames offset, offset + step, ...
    face_frame_offset: int
    edge_frame_step: int
    # Clips on which the positive control's costly attacks (cascades, OCR) look; None = every
    # clip. The stills always get every attack.
    costly_clips: tuple = None
    face_mode_clips: tuple = None  # clips redacted in face mode and attacked (None = all)


# Reduced: 50 of the 100 generated frames per clip; the single face frame (12, i.e. generated
# frame 24) shows the bystander's face beside the patient, not hidden behind her head.
REDUCED = Plan(clip_step=2, ocr_frame_step=10, deconv_frames_per_clip=1,
               deconv_sigmas=(1.5, 3.0), face_frame_step=50, face_frame_offset=12,
               edge_frame_step=2, costly_clips=("bystander",), face_mode_clips=("bystander",))
# Full (the report): every generated frame, more deblurring widths, every clip in face mode.
# Bounded to ~20 min on 2 busy cores: the cascades (5 of them at 1x and 2x, ~5 s a frame) run
# on four frames per clip (12, 37: bystander right of the patient, 62: left of her, 87), and
# the positive control keeps its costly attacks to the stills and the bystander clip.
FULL = Plan(clip_step=1, ocr_frame_step=10, deconv_frames_per_clip=1,
            deconv_sigmas=(1.0, 1.5, 2.0, 3.0, 5.0), face_frame_step=25, face_frame_offset=12,
            edge_frame_step=2, costly_clips=("bystander",), face_mode_clips=None)


def face_frames(count, plan):
    return list(range(min(plan.face_frame_offset, count - 1), count, plan.face_frame_step))


# ---------------------------------------------------------------- text
def codes_read(images, codes):
    """{code: [image indices]} for codes read in at least one image."""
    return {text: where for text, where in ocr.read_codes(images, codes).items() if where}


def ocr_attack(sample_name, images, codes, plan, variant_prefix=""):
    """OCR on the frames as sent and on deconvolved versions; returns rows for the report."""
    rows = [{"sample": sample_name, "attack": variant_prefix + "frames", "images": len(images),
             "recovered": codes_read(images, codes)}]
    # Centres of equal stretches of the clip (not frame 0, which may still be fully hidden).
    count = min(len(images), plan.deconv_frames_per_clip)
    picks = [int((k + 0.5) * len(images) / count) for k in range(count)]
    deblurred = {}
    for index in sorted(set(int(i) for i in picks)):
        for name, image in deconv.variants(images[index], plan.deconv_sigmas):
            deblurred.setdefault(name, []).append(image)
    all_deblurred = [image for group in deblurred.values() for image in group]
    rows.append({"sample": sample_name, "attack": variant_prefix + "deconvolved "
                 + "/".join(sorted({n.split('-')[0] for n in deblurred})) + " sigma "
                 + ",".join(f"{s:g}" for s in plan.deconv_sigmas),
                 "images": len(all_deblurred), "recovered": codes_read(all_deblurred, codes)})
    return rows


# ---------------------------------------------------------------- temporal
def temporal_region(patients, width):
    """Pixels the patient (grown by the safety margin) covers in under half the frames."""
    grown = [metrics.dilate(p, metrics.safety_margin_px(width)) > 0 for p in patients]
    covered = np.mean(grown, axis=0)
    return np.where(covered < 0.5, 255, 0).astype(np.uint8)


def estimate_shifts(frames):
    """Attacker's sub-pixel registration of every frame to the first (phase correlation)."""
    reference = metrics.grey(frames[0]).astype(np.float64)
    window = cv2.createHanningWindow(reference.shape[::-1], cv2.CV_64F)
    shifts = []
    for frame in frames:
        (dx, dy), _ = cv2.phaseCorrelate(reference, metrics.grey(frame).astype(np.float64), window)
        shifts.append((dx, dy))
    return shifts


def align_and_stack(frames, shifts):
    height, width = frames[0].shape[:2]
    aligned = [cv2.warpAffine(frame, np.float32([[1, 0, -dx], [0, 1, -dy]]), (width, height),
                              flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
               for frame, (dx, dy) in zip(frames, shifts)]
    return np.median(np.stack(aligned), axis=0).astype(np.uint8)


def temporal_attack(clip, frames):
    """Per-pixel median (and align-and-stack for a shaking camera) vs the true background."""
    truth = clip.room  # for the jitter clip: the room before the camera shake
    region = temporal_region(clip.patient, frames[0].shape[1])
    reconstructions = {"median": np.median(np.stack(frames), axis=0).astype(np.uint8)}
    if any(shift != (0.0, 0.0) for shift in clip.shifts):
        reconstructions["align-and-stack (estimated shifts)"] = align_and_stack(
            frames, estimate_shifts(frames))
        reconstructions["align-and-stack (true shifts)"] = align_and_stack(frames, clip.shifts)
    rows = []
    for name, image in reconstructions.items():
        textured, leaked, _ = metrics.block_leak(truth, image, region)
        rows.append({
            "clip": clip.name, "reconstruction": name, "image": image,
            "psnr": metrics.psnr(image, truth, region),
            "psnr_cutoff": metrics.psnr(metrics.cutoff(truth), truth, region),
            "psnr_flat": metrics.psnr(metrics.flat_fill(truth, region), truth, region),
            "detail_leak": leaked / textured if textured else 0.0,
            "region_fraction": float((region > 0).mean()),
            "recovered": codes_read([image], clip.codes),
        })
    return rows


# ---------------------------------------------------------------- edges and bystanders
def edge_ring(patient, ignore):
    ring = metrics.dilate(patient, EDGE_RING_PX)
    ring[patient > 0] = 0
    if ignore is not None:
        ring[ignore > 0] = 0
    return ring


def edge_leak(reference, output, patient, ignore=None):
    """Textured true-background pixels within 16 px of the patient whose 8x8 block still
    correlates with the input's high-pass."""
    ring = edge_ring(patient, ignore)
    background = cv2.bitwise_not(patient)
    if ignore is not None:
        background[ignore > 0] = 0
    textured, leaked, blocks = metrics.block_leak(reference, output, ring, support=background)
    return {"textured_px": textured, "leaked_px": leaked,
            "fraction": leaked / textured if textured else 0.0, "blocks": blocks}


def bystander_attack(clip, frames):
    rows = []
    for index, (frame_in, frame_out, mask) in enumerate(zip(clip.frames, frames, clip.bystander)):
        visible = int(np.count_nonzero(mask))
        if visible < 200:
            continue
        textured, leaked, blocks = metrics.block_leak(frame_in, frame_out, mask)
        shown = metrics.shown_fraction(frame_in, frame_out, mask)
        fraction = leaked / textured if textured else 0.0
        ys, xs = np.nonzero(mask)
        rows.append({"frame": index, "visible_px": visible, "textured_px": textured,
                     "leak": fraction, "shown": shown,
                     "box": (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                             int(ys.max() - ys.min() + 1)),
                     "leaks": fraction > 0.01 or shown > 0.25})
    return rows


# ---------------------------------------------------------------- faces
_CASCADES = {}
_DETECTIONS = {}  # image digest -> detections: the same pixels are never scanned twice


def _cascade(name):
    if name not in _CASCADES:
        _CASCADES[name] = cv2.CascadeClassifier(str(sources.cascade_path(FACE_CASCADES[name])))
    return _CASCADES[name]


def detect_faces(image):
    """Every stock OpenCV cascade, at 1x and 2x, on equalised grey: [(cascade, rect)]."""
    key = hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest() + str(image.shape)
    if key not in _DETECTIONS:
        _DETECTIONS[key] = _detect_faces(image)
    return list(_DETECTIONS[key])


def _detect_faces(image):
    grey_image = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    found = []
    for scale in (1, 2):
        view = grey_image if scale == 1 else cv2.resize(grey_image, None, fx=2, fy=2,
                                                        interpolation=cv2.INTER_CUBIC)
        for name in FACE_CASCADES:
            for x, y, w, h in _cascade(name).detectMultiScale(view, 1.1, 3, minSize=(20, 20)):
                found.append((name, tuple(int(round(v / scale)) for v in (x, y, w, h))))
    return found


def attacker_faces(image, allowed):
    """Detections whose centre is outside `allowed` (uint8 mask; None = nothing allowed)."""
    hits = []
    for name, (x, y, w, h) in detect_faces(image):
        cx, cy = min(x + w // 2, image.shape[1] - 1), min(y + h // 2, image.shape[0] - 1)
        if allowed is None or allowed[cy, cx] == 0:
            hits.append((name, (x, y, w, h)))
    return hits


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / float(aw * ah + bw * bh - inter)


def inside_share(rect, place):
    """Share of `rect`'s area that lies inside `place`."""
    x, y, w, h = rect
    px, py, pw, ph = place
    iw = min(x + w, px + pw) - max(x, px)
    ih = min(y + h, py + ph) - max(y, py)
    return max(iw, 0) * max(ih, 0) / float(w * h)


def input_faces(image, known_places):
    """Faces of the INPUT frame, by the attacker's own cascades: places where two different
    cascades agree (IoU > 0.3), plus any single frontal-cascade detection lying on a face place
    the material knows (the patient's and bystander's hand-drawn face boxes, the poster and
    the family photo). Returns [(cascade, rect, why)]."""
    found = detect_faces(image)
    faces = []
    for name, rect in found:
        if any(other != name and iou(rect, box) > SAME_FACE_IOU for other, box in found):
            faces.append((name, rect, "cascades agree"))
        elif name in FRONTAL_CASCADES and any(inside_share(rect, place) >= ON_KNOWN_FACE
                                              for place in known_places):
            faces.append((name, rect, "frontal on known face"))
    return faces


def face_mode_hits(output, faces_in):
    """Face-mode attack: every detection on the redacted frame, split into leaks (IoU > 0.3 with
    a face of the input) and false positives (hands, lamps, fabric). Returns (leaks, others)."""
    leaks, others = [], []
    for name, rect in detect_faces(output):
        if any(iou(rect, face) > SAME_FACE_IOU for _, face, _ in faces_in):
            leaks.append((name, rect))
        else:
            others.append((name, rect))
    return leaks, others


def allowed_face_zone(patient):
    """In background mode the patient's own face is meant to be seen."""
    return metrics.dilate(patient, metrics.safety_margin_px(patient.shape[1]) + 10)


# ---------------------------------------------------------------- fidelity
def fidelity(reference, output, patient):
    core = metrics.erode(patient, metrics.safety_margin_px(patient.shape[1]))
    inside = core > 0
    if not inside.any():
        return {"ssim": 1.0, "lost": 0.0, "core_px": 0}
    ssim = float(metrics.ssim_map(reference, output)[inside].mean())
    difference = np.abs(reference.astype(np.int16) - output.astype(np.int16)).max(axis=2)
    local = cv2.blur(difference.astype(np.float32), (5, 5))
    lost = float((local[inside] > LOST_DIFFERENCE).mean())
    return {"ssim": ssim, "lost": lost, "core_px": int(inside.sum())}
