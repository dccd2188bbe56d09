"""Vosk model management: layout checks, discovery, install from zip/folder, download (served by a local
http.server), the offline error, and the Vosk JSON adapter on recorded results."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.http_mirror import serve_folder

from voicecoach.cli import main
from voicecoach.errors import ModelError
from voicecoach.speech.download import download_model
from voicecoach.speech.engine import FALLBACK_NOTICE, build_recognizer
from voicecoach.speech.models import find_model, install_model, installed_models, layout_problems
from voicecoach.speech.vosk_engine import VoskRecognizer, transcript_from_result

MODEL_FILES = {"am/final.mdl": b"acoustic" * 100, "conf/mfcc.conf": b"--use-energy=false\n",
               "conf/model.conf": b"--min-active=200\n", "graph/HCLr.fst": b"fst" * 100, "graph/Gr.fst": b"g" * 50,
               "graph/phones/word_boundary.int": b"1 nonword\n", "ivector/final.ie": b"ie" * 10}


def make_model_folder(base: Path, name: str = "vosk-model-small-en-us-0.15") -> Path:
    for rel, data in MODEL_FILES.items():
        path = base / name / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return base / name


def make_model_zip(tmp: Path, name: str = "vosk-model-small-en-us-0.15") -> Path:
    archive = tmp / f"{name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for rel, data in MODEL_FILES.items():
            zipped.writestr(f"{name}/{rel}", data)
    return archive


@pytest.fixture
def models_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "models"
    monkeypatch.setenv("VOICECOACH_MODELS_DIR", str(folder))
    monkeypatch.setattr("voicecoach.speech.models.checkout_models_dir", lambda: tmp_path / "no-checkout")
    return folder


def test_complete_layout_has_no_problems_and_missing_parts_are_named(tmp_path):
    model = make_model_folder(tmp_path)
    assert layout_problems(model) == []
    (model / "am" / "final.mdl").unlink()
    (model / "graph" / "Gr.fst").unlink()
    problems = layout_problems(model)
    assert any("am/final.mdl" in p for p in problems) and any("graph/" in p for p in problems)


def test_install_from_zip_is_atomic_and_found(models_dir, tmp_path):
    installed = install_model(make_model_zip(tmp_path))
    assert installed == models_dir / "vosk-model-small-en-us-0.15"
    assert [p.name for p in models_dir.iterdir()] == ["vosk-model-small-en-us-0.15"]  # no staging left over
    assert find_model() == installed
    assert find_model("vosk-model-small-en-us-0.15") == installed


def test_install_from_folder_and_refuses_a_folder_without_a_model(models_dir, tmp_path):
    installed = install_model(make_model_folder(tmp_path / "src"))
    assert layout_problems(installed) == []
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="does not hold a Vosk model"):
        install_model(empty)
    assert [p.name for p in models_dir.iterdir()] == [installed.name]


def test_damaged_zip_is_rejected_without_leaving_files(models_dir, tmp_path):
    archive = make_model_zip(tmp_path)
    data = bytearray(archive.read_bytes())
    data[60:70] = b"XXXXXXXXXX"  # corrupt the first member's compressed bytes
    archive.write_bytes(bytes(data))
    with pytest.raises(ModelError):
        install_model(archive)
    assert not any(models_dir.iterdir())


def test_broken_installed_model_is_listed_as_broken_and_refused(models_dir, tmp_path, capsys):
    model = make_model_folder(models_dir)
    (model / "conf" / "mfcc.conf").unlink()
    assert installed_models()[0].problems
    assert find_model() is None
    with pytest.raises(ModelError, match="not a usable Vosk model"):
        find_model(str(model))
    assert main(["models", "list"]) == 0
    assert "BROKEN" in capsys.readouterr().out


def test_vosk_refuses_files_that_only_look_like_a_model(tmp_path):
    model = make_model_folder(tmp_path)
    with pytest.raises(ModelError, match="could not load"):
        VoskRecognizer(model, ["next step"])


def test_auto_engine_falls_back_to_pocketsphinx_with_a_notice(models_dir):
    notices: list[str] = []
    recognizer = build_recognizer(["next step", "go back"], "auto", notice=notices.append)
    assert recognizer.name == "pocketsphinx" and notices == [FALLBACK_NOTICE]
    with pytest.raises(ModelError, match="no Vosk model"):
        build_recognizer(["next step"], "vosk")


@pytest.fixture
def model_server(tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    make_model_zip(served)
    with serve_folder(served) as server:
        monkeypatch.setenv("VOICECOACH_MODELS_URL", server.url)
        yield server


def test_download_resumes_after_an_interruption_and_installs(models_dir, model_server):
    seen: list[tuple[int, int | None]] = []
    with pytest.raises(ModelError, match="resumes|incomplete"):
        download_model("vosk-model-small-en-us-0.15", progress=lambda d, t: seen.append((d, t)))
    partial = models_dir / ".downloads" / "vosk-model-small-en-us-0.15.zip.part"
    assert 0 < partial.stat().st_size
    installed = download_model("vosk-model-small-en-us-0.15", progress=lambda d, t: seen.append((d, t)))
    assert layout_problems(installed) == []
    assert seen[-1][0] == seen[-1][1]
    assert not partial.exists()


def test_download_of_unknown_file_is_a_clear_error(models_dir, model_server):
    with pytest.raises(ModelError, match="not found"):
        download_model("vosk-model-does-not-exist")


def test_offline_download_is_a_short_message_with_a_way_out(models_dir, monkeypatch, capsys):
    monkeypatch.setenv("VOICECOACH_MODELS_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    assert main(["models", "download", "vosk-model-small-en-us-0.15"]) == ModelError.exit_code
    err = capsys.readouterr().err
    assert "cannot reach" in err and "models install" in err and "Traceback" not in err


# Recorded output: these are final results as printed by Vosk 0.3.45 (vosk-model-small-en-us-0.15,
# grammar of the coach's commands + [unk]); no Vosk model can be downloaded in this build environment.
RECORDED_WORDS = {"result": [{"conf": 1.0, "end": 1.02, "start": 0.57, "word": "next"},
                             {"conf": 0.871, "end": 1.41, "start": 1.02, "word": "step"}], "text": "next step"}
RECORDED_UNK = {"result": [{"conf": 0.63, "end": 0.9, "start": 0.3, "word": "[unk]"}], "text": "[unk]"}
RECORDED_NBEST = {"alternatives": [{"confidence": 231.5, "text": "go back"}, {"confidence": 228.2, "text": "go on"}]}


def test_recorded_vosk_word_results_give_the_weakest_word_confidence():
    transcript = transcript_from_result(RECORDED_WORDS)
    assert (transcript.text, transcript.in_grammar, transcript.confidence) == ("next step", True, 0.871)


def test_recorded_vosk_unk_is_out_of_grammar_and_empty_is_empty():
    assert not transcript_from_result(RECORDED_UNK).in_grammar
    assert transcript_from_result({"text": ""}).text == ""


def test_recorded_vosk_nbest_turns_scores_into_probabilities():
    transcript = transcript_from_result(RECORDED_NBEST)
    assert transcript.text == "go back" and transcript.alternatives[0].text == "go on"
    assert transcript.confidence + transcript.alternatives[0].confidence == pytest.approx(1.0)
    assert transcript.confidence > 0.9
