"""Reading a digit photo or scan and turning it into an MNIST-style image."""

import warnings

import numpy as np

from mnist_vit.errors import ImageError
from mnist_vit.safe_files import check_readable_file

MNIST_SIZE = 28
DIGIT_BOX = 20  # MNIST digits fit a 20x20 box, centred by mass in 28x28
INK_THRESHOLD = 0.25  # a pixel is ink if brighter than this fraction of the brightest
MAX_PIXELS = 50_000_000  # larger pictures (or decompression bombs) are refused before decoding
# A digit on plain paper leaves most of the picture background: at least 82% of every MNIST test digit
# padded by 8 pixels, also when blurred and enlarged; noise and smooth gradients leave about half.
MIN_BACKGROUND_SHARE = 0.6
BACKGROUND_LEVEL = 0.05  # a pixel is background if darker than this fraction of the brightest ink


def to_ink(gray):
    """White ink on black, background at 0: `(height, width)` 0..255 -> the same shape, >= 0.

    Pictures of dark ink on light paper (the border is brighter than
    mid-grey) are inverted; then the background level (the border's median)
    is subtracted.
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 127:
        gray = 255.0 - gray
        border = 255.0 - border
    return np.clip(gray - np.median(border), 0.0, None)


def background_share(gray):
    """The share of a grayscale picture (0..255) that is background once inverted and levelled (`to_ink`)."""
    ink = to_ink(np.asarray(gray, dtype=np.float64))
    if ink.max() <= 0:
        return 1.0
    return float((ink < BACKGROUND_LEVEL * ink.max()).mean())


def mnist_style(gray):
    """Converts a grayscale digit picture to MNIST's style.

    MNIST digits are white (255) on black (0), scaled so that the larger side
    of the digit is 20 pixels, and placed in a 28x28 frame with their centre
    of mass in the middle. The picture is first turned into white ink on a
    black background (`to_ink`).

    Args:
        gray: float array `(height, width)`, values 0..255.

    Returns:
        float32 `(28, 28, 1)`, raw pixels 0..255.

    Raises:
        ImageError: the picture is blank (no ink).
    """
    from PIL import Image

    gray = to_ink(gray)
    if gray.max() <= 0:
        raise ImageError("the image is blank: no digit found")
    ink = gray > INK_THRESHOLD * gray.max()
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    digit = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    digit = 255.0 * digit / digit.max()

    scale = DIGIT_BOX / max(digit.shape)
    height, width = (max(1, round(side * scale)) for side in digit.shape)
    resized = Image.fromarray(digit.astype(np.float32)).resize((width, height), Image.BILINEAR)
    digit = np.clip(np.asarray(resized), 0.0, 255.0)

    total = digit.sum()
    centre_row = (digit.sum(axis=1) * np.arange(height)).sum() / total
    centre_col = (digit.sum(axis=0) * np.arange(width)).sum() / total
    top = int(np.clip(round(MNIST_SIZE / 2 - centre_row), 0, MNIST_SIZE - height))
    left = int(np.clip(round(MNIST_SIZE / 2 - centre_col), 0, MNIST_SIZE - width))
    frame = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    frame[top : top + height, left : left + width] = digit
    return frame[:, :, None]


def read_grayscale(path):
    """Reads a picture (PNG, JPEG, TIFF, or any format Pillow reads) as grayscale values 0..255.

    The EXIF orientation (set by phone cameras) is applied. Pictures with
    transparency are laid on a background that contrasts with their opaque
    pixels (black ink on a transparent background becomes black on white).
    16-bit, 32-bit integer and floating-point pictures are scaled by their
    own range of values.

    Returns:
        float64 `(height, width)`, values 0..255.

    Raises:
        ImageError: naming `path`, when it is missing, not a regular file,
            unreadable, not an image, larger than `MAX_PIXELS`, or holds no
            finite values.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    check_readable_file(path, "image", ImageError)
    try:
        with warnings.catch_warnings(), Image.open(path) as image:
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size is checked below
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(
                    f"image {path} has {width}x{height} pixels; at most {MAX_PIXELS:,} pixels are read"
                )
            image = ImageOps.exif_transpose(image)
            gray = _gray_values(image)
    except Image.DecompressionBombError:
        raise ImageError(f"image {path} is too large: at most {MAX_PIXELS:,} pixels are read") from None
    except PermissionError:
        raise ImageError(f"image {path} cannot be read (permission denied)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise ImageError(f"{path} is not an image that can be read ({error})") from None
    if not np.isfinite(gray).all():
        raise ImageError(f"image {path} holds values that are not finite numbers (NaN or infinity)")
    return gray


def _gray_values(image):
    """Grayscale 0..255 of a Pillow image of any mode (see `read_grayscale`)."""
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        values = np.asarray(image, dtype=np.float64)
        if not np.isfinite(values).all():
            return values  # refused by the caller
        low, high = values.min(), values.max()
        return 255.0 * (values - low) / (high - low) if high > low else np.zeros_like(values)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        luminance = np.asarray(rgba.convert("L"), dtype=np.float64)
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64) / 255.0
        opaque = alpha > 0.5
        ink = luminance[opaque].mean() if opaque.any() else 0.0
        background = 255.0 if ink < 128 else 0.0
        return alpha * luminance + (1.0 - alpha) * background
    return np.asarray(image.convert("L"), dtype=np.float64)


def load_digit_image(path, warn=None):
    """Reads a picture (`read_grayscale`) and returns it MNIST-style.

    Args:
        path: the picture's path.
        warn: None, or `(message) -> None`, called when less than
            `MIN_BACKGROUND_SHARE` of the picture is background (noise, a
            gradient, a photo of a page: not one digit on plain paper).

    Returns:
        float32 `(28, 28, 1)`, raw pixels 0..255 (see `mnist_style`).

    Raises:
        ImageError: naming `path`, when it cannot be read or is blank.
    """
    gray = read_grayscale(path)
    share = background_share(gray) if warn else 1.0
    if share < MIN_BACKGROUND_SHARE:
        warn(
            f"{path} does not look like one digit on plain paper: {share:.0%} of it is background "
            f"(a digit picture has {MIN_BACKGROUND_SHARE:.0%} or more); the answer may be meaningless"
        )
    try:
        return mnist_style(gray)
    except ImageError as error:
        raise ImageError(f"{path}: {error}") from None
