"""Reading a digit photo or scan and turning it into an MNIST-style image."""

import numpy as np

from mnist_vit.errors import ImageError

MNIST_SIZE = 28
DIGIT_BOX = 20  # MNIST digits fit a 20x20 box, centred by mass in 28x28
INK_THRESHOLD = 0.25  # a pixel is ink if brighter than this fraction of the brightest


def mnist_style(gray):
    """Converts a grayscale digit picture to MNIST's style.

    MNIST digits are white (255) on black (0), scaled so that the larger side
    of the digit is 20 pixels, and placed in a 28x28 frame with their centre
    of mass in the middle. Pictures of dark ink on light paper (the border is
    brighter than mid-grey) are inverted first, and the background level
    (the border's median) is subtracted.

    Args:
        gray: float array `(height, width)`, values 0..255.

    Returns:
        float32 `(28, 28, 1)`, raw pixels 0..255.

    Raises:
        ImageError: the picture is blank (no ink).
    """
    from PIL import Image

    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 127:
        gray = 255.0 - gray
        border = 255.0 - border
    gray = np.clip(gray - np.median(border), 0.0, None)
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


def load_digit_image(path):
    """Reads a PNG, JPEG (or any format Pillow reads) and returns it MNIST-style.

    Returns:
        float32 `(28, 28, 1)`, raw pixels 0..255 (see `mnist_style`).

    Raises:
        ImageError: naming `path`, when it is missing, unreadable, not an
            image, or blank.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            gray = np.asarray(image.convert("L"), dtype=np.float32)
    except FileNotFoundError:
        raise ImageError(f"image {path} does not exist") from None
    except IsADirectoryError:
        raise ImageError(f"image {path} is a folder, not an image file") from None
    except PermissionError:
        raise ImageError(f"image {path} cannot be read (permission denied)") from None
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ImageError(f"{path} is not an image that can be read ({error})") from None
    try:
        return mnist_style(gray)
    except ImageError as error:
        raise ImageError(f"{path}: {error}") from None
