"""Report photos: accepted for what their bytes are, re-encoded from pixels only, refused with a reason."""
from __future__ import annotations

from io import BytesIO

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from kindcity.services import photos
from kindcity.services.photos import PhotoRefused, process_photo

GPS = {1: "N", 2: (35.0, 9.0, 0.0), 3: "E", 4: (126.0, 52.0, 0.0)}


def exif_with_gps(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.GPSInfo] = GPS
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    return exif


def encode(kind: str, size=(64, 48), mode="RGB", **params) -> bytes:
    out = BytesIO()
    Image.new(mode, size, "teal" if mode != "L" else 128).save(out, kind, **params)
    return out.getvalue()


def decoded(photo) -> Image.Image:
    image = Image.open(BytesIO(photo.data))
    image.load()
    return image


@pytest.mark.parametrize("kind, content_type", [("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("PNG", "image/png")])
def test_gps_and_camera_metadata_are_stripped(kind, content_type):
    original = encode(kind, exif=exif_with_gps())
    assert Image.open(BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the upload does carry GPS
    photo = process_photo(original, "photo." + kind.lower())
    image = decoded(photo)
    assert photo.content_type == content_type and image.format == kind
    assert dict(image.getexif()) == {} and "exif" not in image.info
    assert b"SecretCam" not in photo.data and b"SecretCam" in original
    assert (photo.width, photo.height) == (64, 48)


def test_png_text_chunks_and_jpeg_comments_are_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "홍길동 010-1234-5678")
    photo = process_photo(encode("PNG", pnginfo=info), "a.png")
    assert "Author" not in decoded(photo).info and "홍길동".encode() not in photo.data
    jpeg = process_photo(encode("JPEG", comment=b"home address"), "b.jpg")
    assert b"home address" not in jpeg.data and "comment" not in decoded(jpeg).info


def test_exif_orientation_is_applied_before_stripping():
    photo = process_photo(encode("JPEG", size=(64, 48), exif=exif_with_gps(orientation=6)), "c.jpg")
    assert (photo.width, photo.height) == (48, 64)


def test_type_comes_from_the_content_not_the_name():
    photo = process_photo(encode("PNG"), "holiday.jpg")
    assert (photo.extension, photo.content_type) == ("png", "image/png")


def test_large_photos_are_scaled_down():
    photo = process_photo(encode("JPEG", size=(4000, 1000)), "wide.jpg")
    assert (photo.width, photo.height) == (photos.MAX_EDGE, photos.MAX_EDGE // 4)


@pytest.mark.parametrize("data, name, code", [
    (b"", "x.jpg", "photo_empty"),
    (b"this is not a picture, just text", "photo.jpg", "photo_type_mismatch"),
    (b"%PDF-1.7 not a picture", "scan.png", "photo_type_mismatch"),
    (b"name,phone\n", "list.csv", "photo_not_an_image"),
    (b"plain words", None, "photo_not_an_image"),
])
def test_things_that_are_not_images_are_refused(data, name, code):
    with pytest.raises(PhotoRefused) as raised:
        process_photo(data, name)
    assert raised.value.code == code


@pytest.mark.parametrize("kind", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused_by_name(kind):
    with pytest.raises(PhotoRefused) as raised:
        process_photo(encode(kind), "image.jpg")
    assert raised.value.code == "photo_type_not_allowed" and raised.value.details == {"found": kind}


def test_too_many_bytes_is_refused_before_decoding():
    with pytest.raises(PhotoRefused) as raised:
        process_photo(b"\xff\xd8" + b"\0" * photos.MAX_BYTES, "big.jpg")
    assert raised.value.code == "photo_too_large" and raised.value.details == {"maximum": 8}


def test_too_many_pixels_is_refused_before_decoding():
    data = encode("PNG", size=(8000, 5001), mode="L")  # 40,008,000 pixels, a small file
    assert len(data) < photos.MAX_BYTES
    with pytest.raises(PhotoRefused) as raised:
        process_photo(data, "huge.png")
    assert raised.value.code == "photo_too_many_pixels"


def test_a_truncated_image_is_refused():
    data = encode("JPEG", size=(400, 300))
    with pytest.raises(PhotoRefused) as raised:
        process_photo(data[: len(data) // 2], "cut.jpg")
    assert raised.value.code == "photo_damaged"


def test_store_never_overwrites_and_discard_is_quiet(tmp_path):
    name = photos.random_name("png")
    assert len(name) == 36 and name.endswith(".png")
    path = photos.store(tmp_path / "uploads", name, b"first")
    with pytest.raises(FileExistsError):
        photos.store(tmp_path / "uploads", name, b"second")
    assert path.read_bytes() == b"first"
    photos.discard(tmp_path / "uploads", name)
    photos.discard(tmp_path / "uploads", name)
    assert not path.exists()
