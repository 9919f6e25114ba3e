"""Reading a digit photo or scan and turning it into an MNIST-style image."""

import warnings

import numpy as np

from mnist_vit.errors import ImageError
from mnist_vit.safe_files import check_readable_file

MNIST_SIZE = 28
DIGIT_BOX = 20  # MNIST digits fit a 20x20 box, centred by mass in 28x28
INK_THRESHOLD = 0.25  # the digit's box holds its ink brighter than this fraction of the brightest
MAX_PIXELS = 50_000_000  # larger pictures (or decompression bombs) are refused before decoding
WORK_SIZE = 1024  # pictures with a longer side are reduced to it (area averaging) before they are read
LIGHTING_SIZE = 96  # the lighting is estimated on the picture reduced to this longer side...
LIGHTING_WINDOW = (
    0.75  # ...as a running median over this share of it (wider than a digit that fills the picture)
)
MNIST_STROKE = 0.11  # MNIST strokes are about 11% of the digit's longer side (about 2.2 of 20 pixels)
MIN_STROKE = 0.05  # strokes thinner than this share of the digit's longer side are widened to MNIST_STROKE
MARK_GAP = 0.03  # ink closer than this share of the picture's longer side belongs to one mark
MARK_SHARE = 0.02  # a separate mark with less than this share of the largest mark's ink is a speck
MIN_CONTRAST = 24.0  # grey levels (of 255) by which the ink must stand out from the paper
# A digit on plain paper leaves most of the picture background: at least 82% of every MNIST test digit
# padded by 8 pixels, also when blurred and enlarged; noise and smooth gradients leave about half.
MIN_BACKGROUND_SHARE = 0.6
BACKGROUND_LEVEL = 0.05  # a pixel is background if darker than this fraction of the brightest ink


def reduce_to_work_size(gray):
    """`gray` reduced by area averaging so that its longer side is at most `WORK_SIZE`."""
    from PIL import Image

    scale = WORK_SIZE / max(gray.shape)
    if scale >= 1:
        return gray
    height, width = (max(1, round(side * scale)) for side in gray.shape)
    return np.asarray(Image.fromarray(gray.astype(np.float32)).resize((width, height), Image.BOX), np.float64)


def lighting(gray):
    """The paper's brightness at every pixel: a running median wide enough to pass over the strokes.

    Estimated on the picture reduced to `LIGHTING_SIZE` (area averaging),
    then enlarged back, so uneven lighting and shadows are followed while a
    digit's strokes are not. A second pass replaces what the first took for
    ink (Otsu's threshold on the departures) by the first estimate, so a
    bold digit does not darken or lighten the paper around it.
    """
    from PIL import Image
    from scipy.ndimage import median_filter
    from skimage.filters import threshold_otsu

    scale = min(1.0, LIGHTING_SIZE / max(gray.shape))
    height, width = (max(1, round(side * scale)) for side in gray.shape)
    small = np.asarray(Image.fromarray(gray.astype(np.float32)).resize((width, height), Image.BOX))
    window = max(3, round(LIGHTING_WINDOW * max(small.shape)) | 1)
    background = median_filter(small, size=window, mode="nearest")
    departure = np.abs(small - background)
    if departure.max() > departure.min():
        ink = departure > threshold_otsu(departure)
        background = median_filter(np.where(ink, background, small), size=window, mode="nearest")
    full = Image.fromarray(background).resize((gray.shape[1], gray.shape[0]), Image.BILINEAR)
    return np.asarray(full, np.float64)


def to_ink(gray):
    """Ink as positive values on a background at 0: `(height, width)` 0..255 -> the same shape, >= 0.

    The paper's brightness (`lighting`) is subtracted, so uneven lighting
    and grey paper leave a flat background; whether the ink is darker or
    lighter than the paper is read from which side of it the strongest
    departures lie (dark ink on light paper is turned into light ink).
    """
    residual = gray - lighting(gray)
    ordered = np.sort(residual, axis=None)
    count = min(
        ordered.size, 20
    )  # the 20 strongest departures each way: a thin stroke is enough, a speck not
    darkest, lightest = -ordered[:count].mean(), ordered[-count:].mean()
    return np.clip(-residual if darkest > lightest else residual, 0.0, None)


def background_share(gray):
    """The share of a grayscale picture (0..255) that is background once its ink is separated (`to_ink`)."""
    ink = to_ink(np.asarray(gray, dtype=np.float64))
    if ink.max() <= 0:
        return 1.0
    return float((ink < BACKGROUND_LEVEL * ink.max()).mean())


def stroke_width(mask):
    """The mean width in pixels of the strokes in a boolean `mask`: area over the skeleton's length."""
    from skimage.morphology import skeletonize

    length = skeletonize(mask).sum()
    return float(mask.sum()) / max(int(length), 1)


def side_by_side(a, b):
    """Whether two marks (skimage regions) stand beside each other: their columns overlap by under half."""
    overlap = min(a.bbox[3], b.bbox[3]) - max(a.bbox[1], b.bbox[1])
    return overlap < 0.5 * min(a.bbox[3] - a.bbox[1], b.bbox[3] - b.bbox[1])


def find_digit(ink):
    """The ink of the digit in `ink`, cut to its box, and what makes the picture doubtful.

    Ink is told from paper by Otsu's threshold (or `INK_THRESHOLD` of the
    brightest ink, if lower: the soft edges MNIST's box holds); ink within `MARK_GAP` of
    other ink is one mark. Every mark with at least `MARK_SHARE` of the
    largest one's ink is kept (a 5 drawn in two strokes is one digit),
    smaller specks are dropped; two marks of at least half the tallest
    one's height standing side by side are read as several digits.

    Returns:
        `(digit, mask, doubts)`: float `(h, w)` ink of the kept marks (0
        elsewhere), their boolean ink mask, and a list of str, one per
        reason to doubt that the picture is one digit on plain paper.

    Raises:
        ImageError: the picture holds no ink that stands out (blank).
    """
    from skimage.filters import threshold_otsu
    from skimage.measure import label, regionprops
    from skimage.morphology import dilation, disk

    contrast = float(np.sort(ink, axis=None)[-min(ink.size, 20)])  # the 20th brightest pixel: not one speck
    if contrast <= 1.0:
        raise ImageError("the image is blank: no digit found")
    doubts = []
    if contrast < MIN_CONTRAST:
        doubts.append(f"its ink stands out from the paper by only {contrast:.0f} grey levels of 255")
    mask = ink > min(threshold_otsu(ink), INK_THRESHOLD * contrast)
    gap = max(1, round(MARK_GAP * max(ink.shape)))
    near = label(dilation(mask, disk(gap)), connectivity=2)  # each mark with the paper just around it
    marks = near * mask
    regions = sorted(regionprops(marks, intensity_image=ink), key=lambda r: -r.area * r.intensity_mean)
    weight = regions[0].area * regions[0].intensity_mean
    kept = [r for r in regions if r.area * r.intensity_mean >= MARK_SHARE * weight]  # specks are dropped
    tallest = max(r.bbox[2] - r.bbox[0] for r in kept)
    tall = [r for r in kept if r.bbox[2] - r.bbox[0] >= 0.5 * tallest]
    if any(side_by_side(a, b) for i, a in enumerate(tall) for b in tall[i + 1 :]):
        doubts.append(f"it holds {len(tall)} digit-sized marks side by side (several digits?)")
    top, left = min(r.bbox[0] for r in kept), min(r.bbox[1] for r in kept)
    bottom, right = max(r.bbox[2] for r in kept), max(r.bbox[3] for r in kept)
    if bottom - top >= 0.95 * ink.shape[0] or right - left >= 0.95 * ink.shape[1]:
        doubts.append("its ink runs across the whole picture (ruled lines, a frame or a shadow?)")
    labels = [r.label for r in kept]
    # The digit's box is where the kept marks' ink passes `INK_THRESHOLD` of the brightest, as MNIST's
    # box is drawn; all ink in it above the paper's own grain is kept, soft stroke edges included.
    ink = np.clip(ink - np.median(ink), 0.0, None)
    strong = np.isin(near, labels) & (ink > INK_THRESHOLD * ink.max())
    rows, cols = np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))
    box = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
    digit, mask = ink[box], np.isin(marks[box], labels)
    return digit, mask, doubts


def mnist_style(gray):
    """Converts a grayscale digit picture to MNIST's style.

    MNIST digits are white (255) on black (0), drawn with strokes about
    `MNIST_STROKE` of their size wide, scaled so that the larger side of the
    digit is 20 pixels, and placed in a 28x28 frame with their centre of
    mass in the middle. The picture is first reduced to `WORK_SIZE`, turned
    into ink on a flat background (`to_ink`), specks are dropped
    (`find_digit`), and strokes thinner than `MIN_STROKE` are widened to
    MNIST's.

    Args:
        gray: float array `(height, width)`, values 0..255.

    Returns:
        `(image, doubts)`: float32 `(28, 28, 1)`, raw pixels 0..255, and the
        list of reasons to doubt that the picture is one digit (`find_digit`).

    Raises:
        ImageError: the picture is blank (no ink).
    """
    from PIL import Image
    from skimage.morphology import dilation, disk

    digit, mask, doubts = find_digit(to_ink(reduce_to_work_size(gray)))
    digit = 255.0 * digit / digit.max()
    width = stroke_width(mask)
    missing = MNIST_STROKE * max(digit.shape) - width
    if width < MIN_STROKE * max(digit.shape) and missing >= 1:
        radius = max(1, round(missing / 2))
        digit = np.pad(digit, radius)
        digit = dilation(digit, disk(radius))

    scale = DIGIT_BOX / max(digit.shape)
    height, width = (max(1, round(side * scale)) for side in digit.shape)
    resized = Image.fromarray(digit.astype(np.float32)).resize((width, height), Image.BILINEAR)
    digit = np.clip(np.asarray(resized), 0.0, None)
    digit = 255.0 * digit / digit.max()

    total = digit.sum()
    centre_row = (digit.sum(axis=1) * np.arange(height)).sum() / total
    centre_col = (digit.sum(axis=0) * np.arange(width)).sum() / total
    top = int(np.clip(round(MNIST_SIZE / 2 - centre_row), 0, MNIST_SIZE - height))
    left = int(np.clip(round(MNIST_SIZE / 2 - centre_col), 0, MNIST_SIZE - width))
    frame = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    frame[top : top + height, left : left + width] = digit
    return frame[:, :, None], doubts


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
        warn: None, or `(message) -> None`, called once when the picture does
            not look like one digit on plain paper: less than
            `MIN_BACKGROUND_SHARE` of it is background (noise, a gradient, a
            page), or `mnist_style` doubts it (several marks, ink across the
            picture, low contrast).

    Returns:
        float32 `(28, 28, 1)`, raw pixels 0..255 (see `mnist_style`).

    Raises:
        ImageError: naming `path`, when it cannot be read or is blank.
    """
    gray = read_grayscale(path)
    try:
        image, doubts = mnist_style(gray)
    except ImageError as error:
        raise ImageError(f"{path}: {error}") from None
    share = background_share(reduce_to_work_size(gray)) if warn else 1.0
    if share < MIN_BACKGROUND_SHARE:
        doubts.insert(0, f"only {share:.0%} of it is background (a digit has {MIN_BACKGROUND_SHARE:.0%})")
    if warn and doubts:
        reasons = "; ".join(doubts)
        warn(f"{path} does not look like one digit on plain paper: {reasons}; the answer may be wrong")
    return image
