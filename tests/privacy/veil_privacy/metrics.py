"""Image measures shared by the attacks: PSNR, SSIM, the design's cutoff, block high-pass leak."""

import cv2
import numpy as np

# design.md section 5: hidden regions carry no detail finer than 1/32 of the frame width.
CUTOFF_FRACTION = 1.0 / 32
# The declared safety margin: Redactor::kSafetyMarginFractionOfWidth (1.5% of the frame width).
SAFETY_MARGIN_FRACTION = 0.015
# design.md section 6: "no 8x8 block whose high-pass content correlates above 0.3 with the input's"
BLOCK = 8
CORRELATION_LIMIT = 0.3
HIGH_PASS_SIGMA = 2.0  # detail finer than ~8 px: well above the 20 px cutoff at 640 px
TEXTURE_MIN_STD = 4.0  # grey levels of input high-pass: below that a block has nothing to leak
OUTPUT_MIN_STD = 1.0  # grey levels: less high-pass energy in the output is 8-bit rounding noise
MIN_BLOCK_PIXELS = 16


def grey(image):
    if image.ndim == 2:
        return image.astype(np.float32)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def psnr(a, b, mask=None):
    diff = a.astype(np.float64) - b.astype(np.float64)
    if diff.ndim == 3:
        diff = diff.reshape(diff.shape[0], diff.shape[1], -1)
        squared = (diff ** 2).mean(axis=2)
    else:
        squared = diff ** 2
    values = squared[mask > 0] if mask is not None else squared
    mse = float(values.mean()) if values.size else 0.0
    return 99.0 if mse <= 1e-10 else 10 * np.log10(255.0 ** 2 / mse)


def cutoff(image):
    """The best the design lets through: downsample to 32 px across, upsample back."""
    height, width = image.shape[:2]
    small_w = max(1, round(width * CUTOFF_FRACTION))
    small_h = max(1, round(height * small_w / width))
    small = cv2.resize(image, (small_w, small_h), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def flat_fill(image, mask):
    """The best single colour for `mask` (its mean): what a flat fill leaves an attacker."""
    mean = cv2.mean(image, mask=mask)[:image.shape[2] if image.ndim == 3 else 1]
    return np.full_like(image, np.round(mean).astype(np.uint8) if image.ndim == 3 else
                        round(mean[0]))


def ssim_map(a, b):
    """Wang et al. SSIM on grey levels, 11x11 Gaussian window (sigma 1.5)."""
    x, y = grey(a).astype(np.float64), grey(b).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(image):
        return cv2.GaussianBlur(image, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))


def safety_margin_px(width):
    return max(1, round(width * SAFETY_MARGIN_FRACTION))


def erode(mask, pixels):
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return cv2.erode(mask, kernel)


def dilate(mask, pixels):
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return cv2.dilate(mask, kernel)


def masked_high_pass(image, support):
    """High-pass of `image` using only pixels in `support` (normalised convolution), so the
    patient's own edge, which is allowed to be sharp, does not count as background detail."""
    weight = (support > 0).astype(np.float32)
    values = grey(image) * weight
    low = cv2.GaussianBlur(values, (0, 0), HIGH_PASS_SIGMA)
    norm = cv2.GaussianBlur(weight, (0, 0), HIGH_PASS_SIGMA)
    return np.where(norm > 1e-3, grey(image) - low / np.maximum(norm, 1e-3), 0) * weight


def block_leak(reference, output, region, support=None):
    """Design's "nothing survives" test on `region` (uint8 mask).

    For every 8x8 block holding at least 16 region pixels whose reference high-pass varies
    (textured), the block leaks when the output's high-pass correlates above 0.3 with it and
    carries more than rounding-noise energy. Returns (textured pixels, leaked pixels, leaking
    block rectangles)."""
    support = region if support is None else support
    hp_in = masked_high_pass(reference, support).astype(np.float64)
    hp_out = masked_high_pass(output, support).astype(np.float64)
    height, width = region.shape
    rows, cols = height // BLOCK, width // BLOCK

    def per_block(values):
        return values[:rows * BLOCK, :cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK).sum(
            axis=(1, 3))

    inside = (region > 0).astype(np.float64)
    count = per_block(inside)
    n = np.maximum(count, 1)
    mean_a, mean_b = per_block(inside * hp_in) / n, per_block(inside * hp_out) / n
    var_a = np.maximum(per_block(inside * hp_in ** 2) / n - mean_a ** 2, 0)
    var_b = np.maximum(per_block(inside * hp_out ** 2) / n - mean_b ** 2, 0)
    cov = per_block(inside * hp_in * hp_out) / n - mean_a * mean_b
    correlation = cov / np.sqrt(np.maximum(var_a * var_b, 1e-12))
    is_textured = (count >= MIN_BLOCK_PIXELS) & (np.sqrt(var_a) >= TEXTURE_MIN_STD)
    is_leak = is_textured & (np.sqrt(var_b) >= OUTPUT_MIN_STD) & (correlation > CORRELATION_LIMIT)
    leaking = [(int(x * BLOCK), int(y * BLOCK), BLOCK, BLOCK, round(float(correlation[y, x]), 2))
               for y, x in zip(*np.nonzero(is_leak))]
    return int(count[is_textured].sum()), int(count[is_leak].sum()), leaking


def shown_fraction(reference, output, region, tolerance=8):
    """Fraction of `region` pixels reproduced within `tolerance` levels in every channel."""
    inside = region > 0
    if not inside.any():
        return 0.0
    close = np.abs(reference.astype(np.int16) - output.astype(np.int16)).max(axis=2) <= tolerance
    return float(close[inside].mean())
