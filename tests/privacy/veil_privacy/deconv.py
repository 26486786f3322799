"""Deblurring an attacker would try on a blurred background: Wiener and Richardson-Lucy with
Gaussian point-spread functions over a range of widths (the attacker does not know ours)."""

import cv2
import numpy as np


def _gaussian_otf(shape, sigma):
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.fftfreq(shape[1])[None, :]
    return np.exp(-2 * (np.pi ** 2) * (sigma ** 2) * (fx ** 2 + fy ** 2))


def wiener(grey_image, sigma, noise_to_signal=0.005):
    image = grey_image.astype(np.float64)
    pad = int(4 * sigma) + 4
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    otf = _gaussian_otf(padded.shape, sigma)
    restored = np.real(np.fft.ifft2(np.fft.fft2(padded) * otf / (otf ** 2 + noise_to_signal)))
    return np.clip(restored[pad:-pad, pad:-pad], 0, 255).astype(np.uint8)


def richardson_lucy(grey_image, sigma, iterations=25):
    observed = grey_image.astype(np.float32) + 1.0
    estimate = np.full_like(observed, float(observed.mean()))
    for _ in range(iterations):
        predicted = cv2.GaussianBlur(estimate, (0, 0), sigma)
        ratio = observed / np.maximum(predicted, 1e-3)
        estimate *= cv2.GaussianBlur(ratio, (0, 0), sigma)
    return np.clip(estimate - 1.0, 0, 255).astype(np.uint8)


def variants(image, sigmas):
    """(name, grey uint8 image) pairs: the attacker's deblurred guesses for one frame."""
    grey_image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    out = []
    for sigma in sigmas:
        out.append((f"wiener-s{sigma:g}", wiener(grey_image, sigma)))
        out.append((f"rl-s{sigma:g}", richardson_lucy(grey_image, sigma)))
    return out
