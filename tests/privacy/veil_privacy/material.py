"""Evaluation material, generated from Debian-shipped pictures with a fixed seed.

Every sample carries its ground truth: the patient's mask (never from MediaPipe), the true
background (clips), the secret codes printed on it and where, faces in the background, and for
the bystander clip the second person's mask. Nothing here is committed; it is rebuilt in a temp
directory on every run (a few seconds).
"""

import dataclasses

import cv2
import numpy as np

from . import sources

WIDTH, HEIGHT = 640, 360
# Letters and digits that no font confuses with another (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G).
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
# Cap heights in pixels at 640 px frame width: small print on a letter up to a sticky note.
CAP_HEIGHTS = (9, 12, 16, 22, 30)
HERSHEY_CAP_AT_SCALE_1 = 22.0


@dataclasses.dataclass
class Code:
    text: str
    rect: tuple  # x, y, w, h of the printed text in frame pixels (background coordinates)
    cap_px: int


@dataclasses.dataclass
class Still:
    name: str
    kind: str  # "real" (uncomposited person) or "composite"
    image: np.ndarray
    patient: np.ndarray  # uint8 255 = patient (ground truth)
    ignore: np.ndarray  # uint8 255 = neither patient nor background (held objects)
    codes: list
    faces: list  # rects of faces printed in the background (poster, family photo)
    # Known face places (x, y, w, h): the patient's hand-drawn face box and the printed pictures
    # that carry faces (poster, family photo). Scores the face-mode attack; never shown to it.
    face_truth: list


@dataclasses.dataclass
class Clip:
    name: str
    fps: int
    frames: list
    patient: list  # per frame uint8 masks
    background: list  # per frame true background (what the patient and bystander hide)
    bystander: list  # per frame uint8 masks of the second person's visible pixels, or None
    codes: list
    faces: list
    shifts: list  # per frame (dx, dy) camera shift applied to the whole scene (jitter clip)
    room: np.ndarray  # the unshifted true background
    face_truth: list  # per frame: known face places (patient, bystander, poster, photo)


def random_code(rng):
    length = int(rng.integers(6, 9))
    return "".join(rng.choice(list(CODE_ALPHABET), size=length))


def print_code(canvas, text, x, y, cap_px, ink=(20, 20, 20), paper=(235, 240, 242)):
    """Prints `text` on a paper label whose top-left corner is (x, y); returns (Code, label rect)."""
    scale = cap_px / HERSHEY_CAP_AT_SCALE_1
    thickness = max(1, round(cap_px / 9))
    (text_w, text_h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    pad = max(4, cap_px // 2)
    label = (x, y, text_w + 2 * pad, text_h + 2 * pad)
    cv2.rectangle(canvas, (x, y), (x + label[2], y + label[3]), paper, cv2.FILLED)
    cv2.rectangle(canvas, (x, y), (x + label[2], y + label[3]), (150, 150, 150), 1)
    cv2.putText(canvas, text, (x + pad, y + pad + text_h), cv2.FONT_HERSHEY_SIMPLEX, scale, ink,
                thickness, cv2.LINE_AA)
    return Code(text, (x + pad, y + pad, text_w, text_h), cap_px), label


def label_size(text, cap_px):
    scale = cap_px / HERSHEY_CAP_AT_SCALE_1
    thickness = max(1, round(cap_px / 9))
    (text_w, text_h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    pad = max(4, cap_px // 2)
    return text_w + 2 * pad, text_h + 2 * pad


def place_codes(canvas, free, rng, count_per_size, caps=CAP_HEIGHTS, avoid_margin=24):
    """Prints codes at random places where `free` (uint8, 255 = allowed) holds the whole label
    plus `avoid_margin`; returns the Codes printed. Labels never overlap each other."""
    allowed = free.copy()
    codes = []
    for cap in caps:
        for _ in range(count_per_size):
            text = random_code(rng)
            w, h = label_size(text, cap)
            kernel = np.ones((h + 2 * avoid_margin, w + 2 * avoid_margin), np.uint8)
            # Top-left corners whose whole (margin-padded) label lies inside `allowed`.
            fits = cv2.erode(allowed, kernel, anchor=(avoid_margin, avoid_margin),
                             borderType=cv2.BORDER_CONSTANT, borderValue=0)
            ys, xs = np.nonzero(fits[:HEIGHT - h - 2, :WIDTH - w - 2])
            if len(xs) == 0:
                continue
            pick = int(rng.integers(len(xs)))
            code, rect = print_code(canvas, text, int(xs[pick]), int(ys[pick]), cap)
            codes.append(code)
            x, y, lw, lh = rect
            cv2.rectangle(allowed, (x - 4, y - 4), (x + lw + 4, y + lh + 4), 0, cv2.FILLED)
    return codes


def _framed(picture, width, height, frame_colour):
    inner = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
    return cv2.copyMakeBorder(inner, 6, 6, 6, 6, cv2.BORDER_CONSTANT, value=frame_colour)


def room_background(rng):
    """A real indoor photo (opencv-doc rubberwhale1) as the room, with a poster of a second face,
    a framed family photo, a letter and a pill box carrying random codes at several sizes."""
    room = sources.cover_crop(sources.read_source("rubberwhale1"), WIDTH, HEIGHT)
    room = cv2.convertScaleAbs(room, alpha=0.85, beta=20)
    faces = []
    pictures = []  # printed pictures carrying faces: known face places
    # Poster: a second face (reference frame megamind_08 from opencv-doc's Megamind.avi, a face
    # every stock cascade finds), top left.
    poster_src = cv2.imread(str(sources.REFERENCE_FRAMES / "megamind_08.png"), cv2.IMREAD_COLOR)
    if poster_src is None:
        raise sources.MissingSource("reference frame megamind_08.png missing")
    poster = _framed(poster_src[60:300, 170:470], 140, 112, (40, 40, 40))
    room[14:14 + poster.shape[0], 16:16 + poster.shape[1]] = poster
    pictures.append((16, 14, poster.shape[1], poster.shape[0]))
    # Family photo: two real people (opencv-doc basketball1), framed, top right.
    family_src = sources.read_source("basketball1")
    family = _framed(family_src[30:230, 0:260], 130, 100, (30, 60, 110))
    fx, fy = WIDTH - 16 - family.shape[1], 18
    room[fy:fy + family.shape[0], fx:fx + family.shape[1]] = family
    pictures.append((fx, fy, family.shape[1], family.shape[0]))
    faces += detect_faces_rects(room, (16, 14, poster.shape[1], poster.shape[0]))
    faces += detect_faces_rects(room, (fx, fy, family.shape[1], family.shape[0]))
    codes = []
    # A letter (small print), lower left, and a pill box (larger print), lower right.
    letter = (16, 150, 210, 200)
    cv2.rectangle(room, letter[:2], (letter[0] + letter[2], letter[1] + letter[3]),
                  (236, 242, 244), cv2.FILLED)
    y = letter[1] + 10
    for cap in (9, 12, 16, 20):
        code, _ = print_code(room, random_code(rng), letter[0] + 10, y, cap,
                             paper=(236, 242, 244))
        codes.append(code)
        y += int(cap * 1.9) + 12
    box = (WIDTH - 232, 136, 222, 214)
    cv2.rectangle(room, box[:2], (box[0] + box[2], box[1] + box[3]), (60, 110, 200), cv2.FILLED)
    y = box[1] + 14
    for cap in (12, 16, 20, 26):
        code, _ = print_code(room, random_code(rng), box[0] + 10, y, cap)
        codes.append(code)
        y += int(cap * 1.7) + 14
    # Sticky notes between them.
    free = np.zeros((HEIGHT, WIDTH), np.uint8)
    free[130:HEIGHT - 10, 236:WIDTH - 240] = 255
    codes += place_codes(room, free, rng, 1, caps=(16, 22), avoid_margin=4)
    return room, codes, faces, pictures


_FACE_CASCADE = None


def detect_faces_rects(image, region):
    """Faces a stock detector finds inside `region` of `image` (ground truth for face attacks)."""
    global _FACE_CASCADE
    if _FACE_CASCADE is None:
        _FACE_CASCADE = cv2.CascadeClassifier(
            str(sources.cascade_path("haarcascades/haarcascade_frontalface_alt2.xml")))
    x, y, w, h = region
    grey = cv2.equalizeHist(cv2.cvtColor(image[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY))
    found = _FACE_CASCADE.detectMultiScale(grey, 1.1, 3, minSize=(16, 16))
    return [(int(fx + x), int(fy + y), int(fw), int(fh)) for fx, fy, fw, fh in found]


@dataclasses.dataclass
class Cutout:
    picture: np.ndarray
    alpha: np.ndarray  # float32 0..1
    face: tuple  # hand-drawn face box in cutout pixels


def _scaled_rect(rect, scale, origin=(0, 0)):
    x, y, w, h = rect
    return (round((x - origin[0]) * scale), round((y - origin[1]) * scale), round(w * scale),
            round(h * scale))


def patient_cutout():
    """The astronaut (imageio) head and shoulders, webcam framing, with GrabCut/polygon alpha."""
    image = sources.read_source("astronaut")
    person, _ = sources.person_ground_truth("astronaut", image)
    rows = slice(0, 336)  # above the held helmet: head and shoulders only
    return _cutout("astronaut", image[rows], sources.soft_alpha(person)[rows], 320.0)


def bystander_cutout():
    """Messi (opencv-doc messi5), a real person in motion, with GrabCut/polygon alpha."""
    image = sources.read_source("messi5")
    person, _ = sources.person_ground_truth("messi5", image)
    ys, xs = np.nonzero(person)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    return _cutout("messi5", image[box], sources.soft_alpha(person)[box], 250.0,
                   (xs.min(), ys.min()))


def _cutout(source, picture, alpha, height, origin=(0, 0)):
    """`picture` (cut from `source` at `origin`) and its alpha scaled to `height` px, with the
    source's face box moved along."""
    scale = height / picture.shape[0]
    size = (round(picture.shape[1] * scale), round(picture.shape[0] * scale))
    return Cutout(cv2.resize(picture, size, interpolation=cv2.INTER_AREA),
                  cv2.resize(alpha, size, interpolation=cv2.INTER_AREA),
                  _scaled_rect(sources.face_box(source), scale, origin))


def paste(canvas, alpha_canvas, picture, alpha, x, y):
    """Alpha-blends `picture` at integer (x, y), clipped to the canvas; accumulates its alpha."""
    h, w = alpha.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, WIDTH), min(y + h, HEIGHT)
    if x0 >= x1 or y0 >= y1:
        return
    a = alpha[y0 - y:y1 - y, x0 - x:x1 - x, None]
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = np.clip(region * (1 - a) + picture[y0 - y:y1 - y, x0 - x:x1 - x] * a,
                                   0, 255).astype(np.uint8)
    alpha_canvas[y0:y1, x0:x1] = np.maximum(alpha_canvas[y0:y1, x0:x1], a[..., 0])


def _binary(alpha):
    return np.where(alpha > 0.5, 255, 0).astype(np.uint8)


def real_stills(rng):
    """Reference frames with real, uncomposited people; codes printed only on background that is
    at least 24 px from the person, so the person's own edge stays photographic."""
    stills = []
    for name in ("astronaut", "messi5"):
        source = sources.read_source(name)
        person, ignore = sources.person_ground_truth(name, source)
        frame = cv2.imread(str(sources.REFERENCE_FRAMES / f"{name}.png"), cv2.IMREAD_COLOR)
        if frame is None:
            frame = sources.cover_crop(source, WIDTH, HEIGHT)
        patient = _binary(sources.cover_crop(person.astype(np.float32) / 255, WIDTH, HEIGHT,
                                             cv2.INTER_LINEAR))
        ignored = _binary(sources.cover_crop(ignore.astype(np.float32) / 255, WIDTH, HEIGHT,
                                             cv2.INTER_LINEAR))
        image = frame.copy()
        free = cv2.bitwise_not(cv2.bitwise_or(patient, ignored))
        codes = place_codes(image, free, rng, 1)
        faces = [f for f in detect_faces_rects(image, (0, 0, WIDTH, HEIGHT))
                 if not _overlaps_mask(f, patient)]
        face = sources.cover_crop_rect(sources.face_box(name), source.shape, WIDTH, HEIGHT)
        stills.append(Still(f"real_{name}", "real", image, patient, ignored, codes, faces,
                            [face]))
    return stills


def _overlaps_mask(rect, mask):
    x, y, w, h = rect
    return np.count_nonzero(mask[y:y + h, x:x + w]) > 0.2 * w * h


def _moved(rect, dx, dy):
    x, y, w, h = rect
    return (int(round(x + dx)), int(round(y + dy)), w, h)


def _on_screen(rect):
    x, y, w, h = rect
    return x + w > 0 and y + h > 0 and x < WIDTH and y < HEIGHT


def composite_still(room, cutout, x):
    """Returns (image, patient mask, patient face box)."""
    image = room.copy()
    alpha_canvas = np.zeros((HEIGHT, WIDTH), np.float32)
    y = HEIGHT - cutout.alpha.shape[0]
    paste(image, alpha_canvas, cutout.picture, cutout.alpha, x, y)
    return image, _binary(alpha_canvas), _moved(cutout.face, x, y)


def _smooth_walk(rng, count, amplitude):
    steps = rng.normal(0, 1, size=(count + 40, 2))
    path = np.cumsum(steps, axis=0)
    kernel = np.ones(9) / 9
    path = np.stack([np.convolve(path[:, i], kernel, mode="same") for i in range(2)], axis=1)
    path = path[20:20 + count]
    path -= path.mean(axis=0)
    return path * (amplitude / max(1e-6, np.abs(path).max()))


def make_clip(name, room, codes, faces, pictures, cutout, seconds, fps, rng, motion,
              bystander=None, jitter_px=0.0):
    picture, alpha = cutout.picture, cutout.alpha
    count = int(seconds * fps)
    shifts = _smooth_walk(rng, count, jitter_px) if jitter_px > 0 else np.zeros((count, 2))
    frames, patients, backgrounds, bystanders, face_truth = [], [], [], [], []
    for index in range(count):
        t = index / count
        image = room.copy()
        hidden_alpha = np.zeros((HEIGHT, WIDTH), np.float32)
        by_alpha = np.zeros((HEIGHT, WIDTH), np.float32)
        known_faces = list(pictures)
        if bystander is not None:
            by_picture, by_mask = bystander.picture, bystander.alpha
            bx = int(round(WIDTH + 20 - t * (WIDTH + by_mask.shape[1] + 40)))
            by = HEIGHT - by_mask.shape[0] - 40 + int(round(4 * abs(np.sin(2 * np.pi * 4 * t))))
            paste(image, by_alpha, by_picture, by_mask, bx, by)
            known_faces.append(_moved(bystander.face, bx, by))
        if motion == "across":
            px = int(round((WIDTH - alpha.shape[1]) / 2 + 230 * np.sin(2 * np.pi * t)))
        else:
            px = int(round((WIDTH - alpha.shape[1]) / 2 + 12 * np.sin(2 * np.pi * 0.7 * t)))
        py = HEIGHT - alpha.shape[0] + int(round(3 * np.sin(2 * np.pi * 1.3 * t)))
        paste(image, hidden_alpha, picture, alpha, px, py + 6)
        known_faces.append(_moved(cutout.face, px, py + 6))
        background = room
        dx, dy = shifts[index]
        face_truth.append([_moved(rect, dx, dy) for rect in known_faces
                           if _on_screen(_moved(rect, dx, dy))])
        if jitter_px > 0:
            warp = np.float32([[1, 0, dx], [0, 1, dy]])
            image = cv2.warpAffine(image, warp, (WIDTH, HEIGHT), flags=cv2.INTER_CUBIC,
                                   borderMode=cv2.BORDER_REFLECT)
            background = cv2.warpAffine(room, warp, (WIDTH, HEIGHT), flags=cv2.INTER_CUBIC,
                                        borderMode=cv2.BORDER_REFLECT)
            hidden_alpha = cv2.warpAffine(hidden_alpha, warp, (WIDTH, HEIGHT),
                                          flags=cv2.INTER_LINEAR)
        patient = _binary(hidden_alpha)
        frames.append(image)
        patients.append(patient)
        backgrounds.append(background)
        if bystander is not None:
            visible = (by_alpha > 0.5) & (patient == 0)
            bystanders.append(np.where(visible, 255, 0).astype(np.uint8))
        else:
            bystanders.append(None)
    return Clip(name, fps, frames, patients, backgrounds, bystanders, codes, faces,
                [tuple(float(v) for v in s) for s in shifts], room, face_truth)


def subsample(clip, step):
    """Every `step`-th frame of `clip` (the reduced CI run): the same material, fewer frames."""
    if step <= 1:
        return clip

    def pick(values):
        return values[::step]

    return dataclasses.replace(
        clip, fps=clip.fps / step, frames=pick(clip.frames), patient=pick(clip.patient),
        background=pick(clip.background), bystander=pick(clip.bystander),
        shifts=pick(clip.shifts), face_truth=pick(clip.face_truth))


@dataclasses.dataclass
class Material:
    stills: list
    clips: list
    room: np.ndarray


def generate(seed, seconds, fps, clip_step=1):
    """The evaluation material. `clip_step` > 1 keeps every clip_step-th frame of each clip
    after generating all of them, so the reduced run attacks a subset of the very same frames."""
    rng = np.random.default_rng(seed)
    room, room_codes, room_faces, pictures = room_background(rng)
    patient = patient_cutout()
    stills = real_stills(rng)
    for label, x in (("left", 10), ("centre", (WIDTH - patient.alpha.shape[1]) // 2)):
        image, mask, face = composite_still(room, patient, x)
        stills.append(Still(f"composite_{label}", "composite", image, mask,
                            np.zeros_like(mask), room_codes, room_faces, pictures + [face]))
    common = (room, room_codes, room_faces, pictures, patient, seconds, fps, rng)
    clips = [
        make_clip("walk", *common, "across"),
        make_clip("jitter", *common, "still", jitter_px=1.6),
        make_clip("bystander", *common, "still", bystander=bystander_cutout()),
    ]
    return Material(stills, [subsample(clip, clip_step) for clip in clips], room)
