"""Report photos: decode, check, and re-encode uploaded images so that nothing but pixels is kept.

A photo is accepted for what its content is, never for its name: the bytes are identified and
decoded by Pillow, only JPEG, PNG and WebP are allowed, and the image is re-encoded from its
pixels into a fresh image, so EXIF (GPS position, camera, time), XMP, ICC profiles and comments
are all left behind. The orientation from EXIF is applied first so the photo stays upright.

Files are written outside ``static/`` under random names (see :func:`store`).
"""
from __future__ import annotations

import os
import secrets
import warnings
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from ..domain.errors import DomainError

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_EDGE = 2560  # long edge after re-encoding: plenty for a web page, and far smaller files
ALLOWED = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
IMAGE_EXTENSIONS = {"jpg", "jpeg", "jpe", "png", "webp", "gif", "bmp", "tif", "tiff", "heic", "heif"}
STORED_NAME = r"[0-9a-f]{32}\.(?:jpg|png|webp)"


class PhotoRefused(DomainError, ValueError):
    """The upload is not a photo we keep. ``code`` says why; ``details`` fill the message."""


@dataclass(frozen=True)
class ProcessedPhoto:
    data: bytes
    extension: str
    content_type: str
    width: int
    height: int


def _claimed_extension(filename: str | None) -> str:
    name = (filename or "").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _identify(data: bytes, filename: str | None) -> tuple[str, tuple[int, int]]:
    claimed = _claimed_extension(filename)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as probe:
                kind, size = probe.format or "", probe.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused("photo_too_many_pixels", maximum=MAX_PIXELS // 1_000_000) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        if claimed in IMAGE_EXTENSIONS:
            raise PhotoRefused("photo_type_mismatch", extension=claimed) from None
        raise PhotoRefused("photo_not_an_image") from None
    if kind not in ALLOWED:
        raise PhotoRefused("photo_type_not_allowed", found=kind or "?")
    if size[0] <= 0 or size[1] <= 0:
        raise PhotoRefused("photo_damaged")
    if size[0] * size[1] > MAX_PIXELS:
        raise PhotoRefused("photo_too_many_pixels", maximum=MAX_PIXELS // 1_000_000)
    return kind, size


def _decode(data: bytes, kind: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data), formats=[kind]) as check:
                check.verify()  # structure and checksums; the image cannot be used afterwards
            image = Image.open(BytesIO(data), formats=[kind])
            image.load()  # the full decode: a truncated or corrupt file fails here
            return ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused("photo_too_many_pixels", maximum=MAX_PIXELS // 1_000_000) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise PhotoRefused("photo_damaged") from None


def _output_mode(image: Image.Image, kind: str) -> str:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if kind == "JPEG":
        return "L" if image.mode == "L" else "RGB"
    if kind == "PNG" and image.mode in ("L", "LA", "RGB", "RGBA"):
        return image.mode
    return "RGBA" if has_alpha else "RGB"


def process_photo(data: bytes, filename: str | None = None) -> ProcessedPhoto:
    """Check and re-encode an upload; :class:`PhotoRefused` says why one is refused."""
    if not data:
        raise PhotoRefused("photo_empty")
    if len(data) > MAX_BYTES:
        raise PhotoRefused("photo_too_large", maximum=MAX_BYTES // (1024 * 1024))
    kind, _size = _identify(data, filename)
    image = _decode(data, kind)
    try:
        mode = _output_mode(image, kind)
        if image.mode != mode:
            image = image.convert(mode)
        if max(image.size) > MAX_EDGE:
            image.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
        # A new image that receives only the pixels: no info dict, no EXIF, no profile, no comment.
        clean = Image.new(mode, image.size)
        clean.paste(image)
        out = BytesIO()
        if kind == "JPEG":
            clean.save(out, "JPEG", quality=85, optimize=True)
        elif kind == "PNG":
            clean.save(out, "PNG", optimize=True)
        else:
            clean.save(out, "WEBP", quality=85)
    except (OSError, ValueError):
        raise PhotoRefused("photo_damaged") from None
    extension, content_type = ALLOWED[kind]
    return ProcessedPhoto(out.getvalue(), extension, content_type, clean.width, clean.height)


def random_name(extension: str) -> str:
    return f"{secrets.token_hex(16)}.{extension}"


def store(folder: str | os.PathLike, name: str, data: bytes) -> Path:
    """Write a new file (never overwrite one) and return its path."""
    directory = Path(folder)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return path


def discard(folder: str | os.PathLike, name: str) -> None:
    try:
        (Path(folder) / name).unlink()
    except FileNotFoundError:
        pass
