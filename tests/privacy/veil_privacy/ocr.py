"""Text-leak attack: Debian's tesseract reading printed codes from what the redaction sent.

The attacker is given the code alphabet (a whitelist makes tesseract stronger), every frame at
2x, and, as an upper bound on what a patient attacker could do by hand, a tight crop around each
place a code was printed, upscaled and contrast-stretched. A code counts as recovered when the
OCR text contains it with at most one wrong, missing or extra character: for random 6-8
character codes that is the secret, and chance matches are ~1e-7 per attempt.
"""

import os
import pathlib
import subprocess
import tempfile

import cv2
import numpy as np

from .material import CODE_ALPHABET

MAX_EDITS = 1


class TesseractMissing(RuntimeError):
    pass


def run_tesseract(images, psm):
    """OCR of each image (BGR or grey uint8), one tesseract process for the whole batch."""
    if not images:
        return []
    with tempfile.TemporaryDirectory(prefix="veil-ocr-") as tmp:
        paths = []
        for index, image in enumerate(images):
            path = pathlib.Path(tmp) / f"{index:05d}.png"
            cv2.imwrite(str(path), image)
            paths.append(str(path))
        listing = pathlib.Path(tmp) / "list.txt"
        listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        try:
            result = subprocess.run(
                ["tesseract", str(listing), "stdout", "--psm", str(psm), "-l", "eng",
                 "-c", f"tessedit_char_whitelist={CODE_ALPHABET}",
                 "-c", "page_separator=\f"],
                capture_output=True, text=True, env=env, check=False, timeout=1800)
        except FileNotFoundError as error:
            raise TesseractMissing("tesseract not installed (Debian tesseract-ocr)") from error
        if result.returncode != 0:
            raise RuntimeError(f"tesseract failed: {result.stderr[-500:]}")
    pages = result.stdout.split("\f")
    if len(pages) == len(images) + 1 and not pages[-1].strip():
        pages = pages[:-1]  # a separator after the last page
    if len(pages) != len(images):
        raise RuntimeError(f"tesseract returned {len(pages)} pages for {len(images)} images")
    return pages


def normalise(text):
    return "".join(ch for ch in text.upper() if ch.isalnum())


def substring_edit_distance(needle, haystack):
    """Smallest edit distance between `needle` and any substring of `haystack` (Sellers)."""
    if not haystack:
        return len(needle)
    previous = [0] * (len(haystack) + 1)
    for i, ch in enumerate(needle, start=1):
        current = [i] + [0] * len(haystack)
        for j, hay in enumerate(haystack, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (0 if ch == hay else 1))
        previous = current
    return min(previous)


def recovered(code_text, ocr_text):
    return substring_edit_distance(code_text, normalise(ocr_text)) <= MAX_EDITS


def frame_view(image):
    """Whole frame, grey, 2x: tesseract's sweet spot is ~20-30 px capitals."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return cv2.resize(grey, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


def crop_views(image, code):
    """A tight crop around where `code` was printed: ~48 px capitals, contrast stretched, with a
    replicated border (tesseract's line mode reads blurred text best that way)."""
    x, y, w, h = code.rect
    pad = max(4, code.cap_px // 3)
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(image.shape[1], x + w + pad), min(image.shape[0], y + h + pad)
    crop = image[y0:y1, x0:x1]
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    factor = 48.0 / code.cap_px
    big = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    stretched = cv2.normalize(big, None, 0, 255, cv2.NORM_MINMAX)
    return [cv2.copyMakeBorder(stretched, 20, 20, 20, 20, cv2.BORDER_REPLICATE)]


def read_codes(images, codes, crops=True, whole=True):
    """Attacks every image; returns {code text: sorted indices of the images it was read from}."""
    hits = {code.text: set() for code in codes}
    if whole:
        pages = run_tesseract([frame_view(image) for image in images], psm=11)
        for index, text in enumerate(pages):
            for code in codes:
                if recovered(code.text, text):
                    hits[code.text].add(index)
    if crops:
        views, owners = [], []
        for index, image in enumerate(images):
            for code in codes:
                for view in crop_views(image, code):
                    views.append(view)
                    owners.append((index, code.text))
        for (index, owner), text in zip(owners, run_tesseract(views, psm=13)):
            # Any code read counts, even from the crop of a neighbouring label.
            for code in codes:
                if recovered(code.text, text):
                    hits[code.text].add(index)
    return {text: sorted(found) for text, found in hits.items()}


def as_uint8(image):
    return np.clip(np.round(image), 0, 255).astype(np.uint8)
