"""Real pictures shipped by Debian packages, and person ground truth that is not MediaPipe's.

Ground truth comes from hand-drawn polygons (groundtruth/*.json, source pixel coordinates)
refined by GrabCut: the polygon's inside is "probably person", a band well inside it is "surely
person", everything well outside is "surely background". MediaPipe's masks are never read here:
a person cut out with the model's own mask would be found again exactly and hide edge leaks.
"""

import json
import pathlib

import cv2
import numpy as np

OPENCV_DATA = pathlib.Path("/usr/share/doc/opencv-doc/examples/data")
IMAGEIO_IMAGES = pathlib.Path("/usr/lib/python3/dist-packages/imageio/resources/images")
# MediaPipe reference frames, copied into the repository (tests/data/reference/README.md).
REFERENCE_FRAMES = pathlib.Path(__file__).resolve().parents[3] / "tests" / "data" / "reference" / "frames-360p"
CASCADES = pathlib.Path("/usr/share/opencv4")
GROUND_TRUTH_DIR = pathlib.Path(__file__).resolve().parent.parent / "groundtruth"

SOURCE_FILES = {
    "astronaut": IMAGEIO_IMAGES / "astronaut.png",
    "messi5": OPENCV_DATA / "messi5.jpg",
    "basketball1": OPENCV_DATA / "basketball1.png",
    "rubberwhale1": OPENCV_DATA / "rubberwhale1.png",
    "megamind": OPENCV_DATA / "Megamind.avi",
}


class MissingSource(RuntimeError):
    """A Debian-shipped picture is absent (scripts/install-deps installs them)."""


def read_source(name):
    path = SOURCE_FILES[name]
    if not path.exists():
        raise MissingSource(f"{path} missing: install opencv-doc and python3-imageio")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise MissingSource(f"cannot decode {path}")
    return image


def read_video_frame(name, index):
    capture = cv2.VideoCapture(str(SOURCE_FILES[name]))
    try:
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = capture.read()
    finally:
        capture.release()
    if not ok:
        raise MissingSource(f"cannot read frame {index} of {SOURCE_FILES[name]}")
    return frame


def load_polygons(name):
    with open(GROUND_TRUTH_DIR / f"{name}.json", encoding="utf-8") as handle:
        spec = json.load(handle)
    person = np.array(spec["person"], dtype=np.int32)
    ignore = [np.array(item["polygon"], dtype=np.int32) for item in spec.get("ignore", [])]
    return tuple(spec["size"]), person, ignore


def face_box(name):
    """The person's face (x, y, w, h) in source pixels, hand-drawn from forehead to chin."""
    with open(GROUND_TRUTH_DIR / f"{name}.json", encoding="utf-8") as handle:
        return tuple(int(v) for v in json.load(handle)["face"])


def cover_crop_rect(rect, source_shape, width, height):
    """Where `rect` (source pixels) lands after cover_crop to width x height."""
    scale = max(width / source_shape[1], height / source_shape[0])
    left = (round(source_shape[1] * scale) - width) // 2
    top = (round(source_shape[0] * scale) - height) // 2
    x, y, w, h = rect
    return (round(x * scale) - left, round(y * scale) - top, round(w * scale), round(h * scale))


def _fill(shape, polygons):
    mask = np.zeros(shape, np.uint8)
    for polygon in polygons:
        cv2.fillPoly(mask, [polygon], 255)
    return mask


_GROUND_TRUTH_CACHE = {}


def person_ground_truth(name, image):
    key = (name, image.shape)
    if key not in _GROUND_TRUTH_CACHE:
        _GROUND_TRUTH_CACHE[key] = _person_ground_truth(name, image)
    return tuple(mask.copy() for mask in _GROUND_TRUTH_CACHE[key])


def _person_ground_truth(name, image):
    """Returns (person, ignore) uint8 masks (255 = inside) in the source image's pixels."""
    (width, height), person_polygon, ignore_polygons = load_polygons(name)
    if image.shape[:2] != (height, width):
        raise ValueError(f"{name}: polygons drawn for {width}x{height}")
    drawn = _fill(image.shape[:2], [person_polygon])
    band = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15))
    sure_person = cv2.erode(drawn, band)
    maybe_zone = cv2.dilate(drawn, band)
    labels = np.full(image.shape[:2], cv2.GC_BGD, np.uint8)
    labels[maybe_zone > 0] = cv2.GC_PR_BGD
    labels[drawn > 0] = cv2.GC_PR_FGD
    labels[sure_person > 0] = cv2.GC_FGD
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(7)
    cv2.grabCut(image, labels, None, background_model, foreground_model, 5,
                cv2.GC_INIT_WITH_MASK)
    person = np.where((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    # Keep the component(s) overlapping the drawing; GrabCut can add specks far away.
    count, components = cv2.connectedComponents(person)
    keep = np.zeros_like(person)
    for label in range(1, count):
        region = components == label
        if np.count_nonzero(region & (sure_person > 0)) > 0:
            keep[region] = 255
    ignore = _fill(image.shape[:2], ignore_polygons)
    return keep, ignore


def soft_alpha(person_mask):
    """A one-pixel feather so pasted edges look photographic, not stair-stepped."""
    return cv2.GaussianBlur(person_mask.astype(np.float32) / 255.0, (0, 0), 0.7)


def cover_crop(image, width, height, interpolation=cv2.INTER_CUBIC):
    """Scale to cover width x height and centre-crop (the reference frames' recipe)."""
    scale = max(width / image.shape[1], height / image.shape[0])
    scaled = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                        interpolation=interpolation)
    top = (scaled.shape[0] - height) // 2
    left = (scaled.shape[1] - width) // 2
    return scaled[top:top + height, left:left + width]


def cascade_path(relative):
    path = CASCADES / relative
    if not path.exists():
        raise MissingSource(f"{path} missing: install opencv-data")
    return path
