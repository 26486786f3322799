"""What gets attacked: veil-blur's output, and stand-in redactions that calibrate the attacks.

- veil-blur: the system under test, run exactly as a user would (images, and videos so that its
  temporal logic runs; it writes VP8, which is also what an attacker at the SFU receives).
- control-weak-blur: a Gaussian blur (sigma 1.5 px) of everything outside the ground-truth
  patient. Typical of "background blur" products; the attacks MUST recover codes from it,
  which proves they can fail a redaction.
- control-cutoff: the design's own floor (hidden = background grown by the safety margin, filled
  with the frame cut off at 1/32 of its width). Attacks should find nothing here; it shows the
  thresholds do not fire on a redaction that keeps only what the design allows.
"""

import pathlib
import shutil
import subprocess

import cv2
import numpy as np

from . import metrics

WEAK_BLUR_SIGMA = 1.5


class VeilBlurRejected(RuntimeError):
    """veil-blur refused the request (e.g. a mode it does not implement yet)."""


def weak_blur(frame, patient):
    blurred = cv2.GaussianBlur(frame, (0, 0), WEAK_BLUR_SIGMA)
    keep = (patient > 0)[..., None]
    return np.where(keep, frame, blurred)


def cutoff_fill(frame, patient):
    hidden = metrics.dilate(cv2.bitwise_not(patient), metrics.safety_margin_px(frame.shape[1]))
    return np.where((hidden > 0)[..., None], metrics.cutoff(frame), frame)


def weak_blur_faces(frame, face_rects):
    out = frame.copy()
    for x, y, w, h in face_rects:
        out[y:y + h, x:x + w] = cv2.GaussianBlur(frame[y:y + h, x:x + w], (0, 0), WEAK_BLUR_SIGMA)
    return out


CONTROLS = {"control-weak-blur": weak_blur, "control-cutoff": cutoff_fill}


def write_lossless_video(frames, fps, path):
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), fps,
                             (frames[0].shape[1], frames[0].shape[0]), True)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path} (FFV1 via OpenCV's FFmpeg backend)")
    for frame in frames:
        writer.write(frame)
    writer.release()


def read_video(path):
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def vp8_round_trip(frames, fps, workdir):
    """The input through the same VP8 writer veil-blur uses: the codec's own loss, for scale."""
    path = pathlib.Path(workdir) / "codec-reference.webm"
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"VP80"), fps,
                             (frames[0].shape[1], frames[0].shape[0]), True)
    for frame in frames:
        writer.write(frame)
    writer.release()
    return read_video(path)


class VeilBlur:
    def __init__(self, executable, workdir, models=None):
        self.executable = str(executable)
        self.workdir = pathlib.Path(workdir)
        self.models = models
        self.log = []

    def _run(self, mode, source, target):
        command = [self.executable, "--mode", mode]
        if self.models:
            command += ["--models", str(self.models)]
        command += [str(source), str(target)]
        result = subprocess.run(command, capture_output=True, text=True, check=False,
                                timeout=1200)
        self.log.append((" ".join(command), result.returncode, result.stderr.strip()[-400:]))
        if result.returncode == 2 and mode not in ("background", "voice-only"):
            raise VeilBlurRejected(result.stderr.strip() or result.stdout.strip())
        if result.returncode != 0:
            raise RuntimeError(f"veil-blur exited {result.returncode}: {result.stderr[-800:]}")
        return result

    def stills(self, mode, named_images):
        folder = self.workdir / f"stills-in-{mode}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, image in named_images.items():
            cv2.imwrite(str(folder / f"{name}.png"), image)
        out = self.workdir / f"stills-out-{mode}"
        shutil.rmtree(out, ignore_errors=True)  # veil-blur never overwrites; reruns reuse --out
        self._run(mode, folder, out)
        results = {}
        for name in named_images:
            image = cv2.imread(str(out / f"{name}.png"), cv2.IMREAD_COLOR)
            if image is None:
                raise RuntimeError(f"veil-blur wrote no {name}.png")
            results[name] = image
        return results

    def clip(self, mode, name, frames, fps):
        source = self.workdir / f"{name}-in.mkv"
        write_lossless_video(frames, fps, source)
        target = self.workdir / f"{name}-out-{mode}.mkv"
        target.unlink(missing_ok=True)
        self._run(mode, source, target)
        out = read_video(target)
        if len(out) != len(frames):
            raise RuntimeError(f"{name}: veil-blur wrote {len(out)} frames for {len(frames)}")
        return out
