"""Evidence photos: the content check, metadata stripping, the limits, both stores and the service on SQLite."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

import pytest
from PIL import ExifTags, Image

from router.photos import JPEG, PNG, THUMBNAIL_SIDE, PhotoLimits, PhotoRefused, Photos, Refusal, clean
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.photo_files import BucketFiles, DirectoryFiles
from router.store.photos import referenced
from workers.api_server import photo_files
from workers.settings import SettingMissing, Settings

AT = datetime(2026, 11, 30, 1, 2, 3, tzinfo=UTC)
GPS = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (30.0, 10.0, 35.0),
       ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (120.0, 18.0, 4.0)}


def camera_jpeg(size: tuple[int, int] = (64, 48), orientation: int | None = None) -> bytes:
    """A JPEG as a phone writes it: GPS position, make and owner in EXIF, an XMP packet and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    exif[ExifTags.Base.CameraOwnerName] = "王小明"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", exif=exif, comment=b"taken at home",
                                                xmp=b"<x:xmpmeta><exif:GPSLatitude>30,10</exif:GPSLatitude></x:xmpmeta>")
    return out.getvalue()


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 0, 100)).save(out, "PNG", exif=exif)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def test_a_phone_jpeg_loses_its_location_and_every_other_metadata():
    original = camera_jpeg()
    assert dict(opened(original).getexif().get_ifd(ExifTags.IFD.GPSInfo))  # the test photo has a position
    photo = clean(original, JPEG, PhotoLimits())
    stored = opened(photo.data)
    assert stored.format == "JPEG" and (photo.width, photo.height) == (64, 48) == stored.size
    assert dict(stored.getexif()) == {}
    assert not {"exif", "xmp", "comment"} & stored.info.keys()
    assert b"TestPhone" not in photo.data and "王小明".encode() not in photo.data and b"xmpmeta" not in photo.data


def test_the_bundle_may_keep_the_location_and_nothing_else():
    photo = clean(camera_jpeg(), JPEG, PhotoLimits(), keep_location=True)
    exif = opened(photo.data).getexif()
    assert dict(exif.get_ifd(ExifTags.IFD.GPSInfo)) == {k: v for k, v in GPS.items()}
    assert ExifTags.Base.Make not in exif and b"xmpmeta" not in photo.data


def test_a_photo_is_turned_upright_before_its_orientation_tag_is_dropped():
    photo = clean(camera_jpeg((64, 48), orientation=6), JPEG, PhotoLimits())  # 6: rotate 90° to view
    assert (photo.width, photo.height) == (48, 64) == opened(photo.data).size


def test_a_png_stays_a_png_with_its_transparency_and_without_its_exif():
    photo = clean(png(), PNG, PhotoLimits())
    stored = opened(photo.data)
    assert (stored.format, stored.mode, photo.content_type) == ("PNG", "RGBA", PNG)
    assert dict(stored.getexif()) == {} and "exif" not in stored.info


def test_the_thumbnail_fits_in_its_box_and_keeps_the_format():
    photo = clean(camera_jpeg((1000, 500)), JPEG, PhotoLimits())
    thumbnail = opened(photo.thumbnail)
    assert thumbnail.format == "JPEG" and thumbnail.size == (THUMBNAIL_SIDE, THUMBNAIL_SIDE // 2)
    assert dict(thumbnail.getexif()) == {}


@pytest.mark.parametrize(("data", "declared", "refusal"), [
    pytest.param(b"%PDF-1.7\n" + b"x" * 100, JPEG, Refusal.UNSUPPORTED_TYPE, id="pdf-named-jpg"),
    pytest.param(b"<html><script>alert(1)</script></html>", JPEG, Refusal.UNSUPPORTED_TYPE, id="html-named-jpg"),
    pytest.param(b"GIF89a" + b"\x00" * 50, PNG, Refusal.UNSUPPORTED_TYPE, id="gif"),
    pytest.param(b"", JPEG, Refusal.UNSUPPORTED_TYPE, id="empty"),
    pytest.param(camera_jpeg(), "image/gif", Refusal.UNSUPPORTED_TYPE, id="declared-gif"),
    pytest.param(png(), JPEG, Refusal.TYPE_MISMATCH, id="png-declared-jpeg"),
    pytest.param(camera_jpeg(), PNG, Refusal.TYPE_MISMATCH, id="jpeg-declared-png"),
    pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 200, JPEG, Refusal.UNREADABLE, id="jpeg-magic-then-garbage"),
    pytest.param(camera_jpeg((200, 200))[:300], JPEG, Refusal.UNREADABLE, id="truncated-jpeg"),
    pytest.param(png()[:60], PNG, Refusal.UNREADABLE, id="truncated-png"),
])
def test_only_a_real_jpeg_or_png_is_accepted(data, declared, refusal):
    with pytest.raises(PhotoRefused) as refused:
        clean(data, declared, PhotoLimits())
    assert refused.value.refusal is refusal


def test_the_limits_refuse_too_many_bytes_and_too_many_pixels():
    data = camera_jpeg((100, 100))
    with pytest.raises(PhotoRefused) as refused:
        clean(data, JPEG, PhotoLimits(max_bytes=len(data) - 1))
    assert refused.value.refusal is Refusal.TOO_LARGE
    assert clean(data, JPEG, PhotoLimits(max_bytes=len(data), max_pixels=100 * 100)).width == 100
    with pytest.raises(PhotoRefused) as refused:
        clean(data, JPEG, PhotoLimits(max_pixels=100 * 100 - 1))
    assert refused.value.refusal is Refusal.TOO_MANY_PIXELS


def test_a_huge_image_in_a_small_file_is_refused_before_it_is_decoded():
    out = io.BytesIO()
    Image.new("1", (8_000, 7_500)).save(out, "PNG")  # 60 megapixels in a few kilobytes
    assert len(out.getvalue()) < 100_000
    with pytest.raises(PhotoRefused) as refused:
        clean(out.getvalue(), PNG, PhotoLimits())
    assert refused.value.refusal is Refusal.TOO_MANY_PIXELS


def test_photo_references_are_told_from_other_attachments():
    assert referenced(["photo:PH00", "oss://bucket/photo:PH01", "https://x/1.jpg", "photo:PH02"]) == {"PH00", "PH02"}


def test_the_directory_store_keeps_files_and_refuses_keys_that_are_not_ids(tmp_path):
    files = DirectoryFiles(tmp_path / "photos")
    files.put("WO1/PH1.jpg", b"one", JPEG)
    files.put("WO1/PH1.jpg", b"again", JPEG)
    assert files.get("WO1/PH1.jpg") == b"again"
    assert sorted(p.name for p in (tmp_path / "photos" / "WO1").iterdir()) == ["PH1.jpg"]  # no temporary left
    # The owner's alone: the directories 0700, the photo 0600.
    assert [(p.stat().st_mode & 0o777) for p in (tmp_path / "photos", tmp_path / "photos" / "WO1",
                                                 tmp_path / "photos" / "WO1" / "PH1.jpg")] == [0o700, 0o700, 0o600]
    with pytest.raises(KeyError):
        files.get("WO1/PH2.jpg")
    for key in ("../escape.jpg", "WO1/../../x.jpg", "/etc/passwd", "WO1/.hidden", "WO1/PH1"):
        with pytest.raises(ValueError):
            files.put(key, b"x", JPEG)


class FakeS3:
    """The two calls of a boto3 S3 client that the bucket store makes, over a dict."""

    class exceptions:  # noqa: N801 - boto3's spelling
        class NoSuchKey(Exception):
            pass

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], tuple[bytes, str]] = {}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, ContentType: str) -> dict:  # noqa: N803
        self.objects[Bucket, Key] = (Body, ContentType)
        return {}

    def get_object(self, *, Bucket: str, Key: str) -> dict:  # noqa: N803
        if (Bucket, Key) not in self.objects:
            raise self.exceptions.NoSuchKey(Key)
        return {"Body": io.BytesIO(self.objects[Bucket, Key][0])}


def test_the_bucket_store_puts_objects_under_its_prefix():
    client = FakeS3()
    files = BucketFiles(client, "evidence", "fengqiao/photos/")
    files.put("WO1/PH1.png", b"bytes", PNG)
    assert client.objects == {("evidence", "fengqiao/photos/WO1/PH1.png"): (b"bytes", PNG)}
    assert files.get("WO1/PH1.png") == b"bytes"
    with pytest.raises(KeyError):
        files.get("WO1/PH2.png")
    with pytest.raises(ValueError):
        files.put("../WO1/PH1.png", b"x", PNG)


@pytest.fixture
def service(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'photos.db'}")
    upgrade(engine)
    yield Photos(DirectoryFiles(tmp_path / "photos"), engine.begin, PhotoLimits())
    engine.dispose()


def test_an_uploaded_photo_reads_back_for_its_order_only(service):
    row = service.upload("WO0000000000001", camera_jpeg(), JPEG, "xintang-op", AT)
    data, content_type = service.read("WO0000000000001", row["photo_id"])
    assert content_type == JPEG and hashlib.sha256(data).hexdigest() == row["sha256"] and len(data) == row["size"]
    assert (row["order_id"], row["uploaded_by"], row["uploaded_at"]) == ("WO0000000000001", "xintang-op", AT)
    assert opened(service.read("WO0000000000001", row["photo_id"], thumbnail=True)[0]).size == (64, 48)
    assert service.read("WO0000000000002", row["photo_id"]) is None
    assert service.read("WO0000000000001", "PH0000000000000000") is None


def test_the_same_image_uploaded_twice_to_an_order_is_one_photo(service):
    first = service.upload("WO0000000000001", camera_jpeg(), JPEG, "xintang-op", AT)
    again = service.upload("WO0000000000001", camera_jpeg(), JPEG, "xintang-op", AT)
    elsewhere = service.upload("WO0000000000002", camera_jpeg(), JPEG, "xintang-op", AT)
    assert again["photo_id"] == first["photo_id"] != elsewhere["photo_id"]


def test_the_settings_choose_the_photo_store(tmp_path):
    files = photo_files(Settings(_env_file=None, data_dir=tmp_path))
    assert isinstance(files, DirectoryFiles) and files.root == tmp_path / "photos"
    with pytest.raises(SettingMissing, match="FENGQIAO_S3_BUCKET"):
        photo_files(Settings(_env_file=None, photo_store="s3"))
    # Building the client connects to nothing: the first photo does.
    bucket = photo_files(Settings(_env_file=None, photo_store="s3", s3_bucket="evidence", s3_region="cn-east-1",
                                  s3_endpoint_url="http://127.0.0.1:9", s3_access_key_id="key",
                                  s3_secret_access_key="secret"))
    assert isinstance(bucket, BucketFiles) and (bucket.bucket, bucket.prefix) == ("evidence", "photos/")
    assert bucket.client.meta.endpoint_url == "http://127.0.0.1:9"
