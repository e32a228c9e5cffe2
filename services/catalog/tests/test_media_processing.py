"""catalog.media on real files: every fixture format becomes two renditions that decode back
to the right length, and the measurements match independent references."""

from __future__ import annotations

import io
import math
import wave
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pyloudnorm
import pytest
from PIL import Image

from catalog.media import MediaLimits, MediaRejected, artwork_sizes, process_audio
from catalog.media.loudness import LoudnessMeter, TruePeakMeter
from catalog.media.peaks import PeakAccumulator

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "media"
TONES = ["tone-3s.flac", "tone-3s.m4a", "tone-3s.mp3", "tone-3s.ogg", "tone-3s.opus", "tone-3s.wav"]

Signal = npt.NDArray[np.float64]


def write_wav(path: Path, samples: Signal, rate: int) -> None:
    """`samples` is (n, channels) in [-1, 1], written as 16-bit PCM."""
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(samples.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())


def read_wav(path: Path) -> Signal:
    with wave.open(str(path), "rb") as wav:
        raw = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return raw.reshape(-1, wav.getnchannels()) / 32768.0


def sine(freq: float, seconds: float, rate: int, amplitude: float, channels: int = 2) -> Signal:
    t = np.arange(round(seconds * rate)) / rate
    tone = amplitude * np.sin(2 * math.pi * freq * t)
    return np.repeat(tone[:, None], channels, axis=1)


def decoded(path: Path) -> tuple[float, int, str, int]:
    """(seconds decoded, channels, codec name, sample rate) of a rendition, by PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        rate = stream.codec_context.sample_rate
        return samples / rate, stream.codec_context.channels, stream.codec_context.name, rate


@pytest.mark.parametrize("name", TONES)
def test_every_format_becomes_two_renditions_of_the_same_length(name: str, tmp_path: Path) -> None:
    result = process_audio(FIXTURES / name, tmp_path / "out")
    assert result.duration_seconds == pytest.approx(3.0, abs=0.05)
    assert [r.name for r in result.renditions] == ["opus", "aac"]
    opus, aac = result.renditions
    seconds, channels, codec, rate = decoded(opus.path)
    assert (codec, rate, channels) == ("opus", 48_000, result.channels)
    assert seconds == pytest.approx(result.duration_seconds, abs=0.05)
    seconds, channels, codec, rate = decoded(aac.path)
    assert (codec, rate, channels) == ("aac", result.sample_rate, result.channels)
    assert seconds == pytest.approx(result.duration_seconds, abs=0.05)
    head = aac.path.read_bytes()
    assert head.index(b"moov") < head.index(b"mdat"), "MP4 not faststart: moov after mdat"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["audio.m4a", "audio.webm"]
    assert len(result.peaks.min) == len(result.peaks.max) == result.peaks.points == 1000
    assert result.integrated_lufs is not None and -30 < result.integrated_lufs < -15


def test_stereo_48k_keeps_its_channels_rate_and_bitrates(tmp_path: Path) -> None:
    source = tmp_path / "stereo.wav"
    write_wav(source, sine(440, 1.5, 48_000, 0.5), 48_000)
    result = process_audio(source, tmp_path / "out")
    assert (result.channels, result.sample_rate) == (2, 48_000)
    assert result.duration_seconds == 1.5
    for rendition in result.renditions:
        with av.open(str(rendition.path)) as container:
            assert container.streams.audio[0].codec_context.channels == 2
    bitrates = {r.name: r.bitrate for r in result.renditions}
    assert bitrates == {"opus": 128_000, "aac": 192_000}


def test_peaks_match_a_plain_numpy_envelope(tmp_path: Path) -> None:
    # Carriers of several periods per point: the envelope is what the peaks must follow.
    rate, seconds = 44_100, 2.5
    t = np.arange(round(seconds * rate)) / rate
    envelope = 0.1 + 0.8 * np.abs(np.sin(math.pi * t / seconds * 3))
    left = envelope * np.sin(2 * math.pi * 2000 * t)
    right = 0.5 * envelope * np.sin(2 * math.pi * 3000 * t + 1.0)
    source = tmp_path / "envelope.wav"
    write_wav(source, np.stack([left, right], axis=1), rate)
    result = process_audio(source, tmp_path / "out")

    samples = read_wav(source)
    slices = np.array_split(samples, 1000)
    expected_max = np.array([s.max() for s in slices])
    expected_min = np.array([s.min() for s in slices])
    assert result.peaks.duration_seconds == seconds
    assert np.abs(np.array(result.peaks.max) - expected_max).max() < 0.03
    assert np.abs(np.array(result.peaks.min) - expected_min).max() < 0.03
    assert max(result.peaks.max) <= 1.0 and min(result.peaks.min) >= -1.0


def test_peak_bins_coarsen_without_losing_the_envelope() -> None:
    """A long input (simulated by a tiny bin budget) keeps bounded bins and exact extremes."""
    rng = np.random.default_rng(7)
    signal = (rng.uniform(-1, 1, size=(2, 300_007)) * np.linspace(0, 1, 300_007)).astype(np.float32)
    accumulator = PeakAccumulator(points=1000, bin_samples=16, max_bins=4096)
    for start in range(0, signal.shape[1], 9_999):
        accumulator.add(signal[:, start : start + 9_999])
        # the bins kept cover every sample at the current width: bounded, as the width doubles
        assert accumulator.samples // accumulator.bin_samples <= 4096 + 9_999 // 16 + 1
    peaks = accumulator.result(1.0)
    slices = np.array_split(signal, 1000, axis=1)
    expected = np.array([s.max() for s in slices])
    assert len(peaks.max) == 1000
    assert float(np.max(peaks.max)) == pytest.approx(float(signal.max()), abs=1e-4)
    # Each point covers ≥ 2 fine bins, so a point may borrow up to one bin from a neighbour.
    assert np.abs(np.array(peaks.max) - expected).mean() < 0.02


def test_a_997_hz_sine_at_minus_20_dbfs_measures_minus_20_lufs(tmp_path: Path) -> None:
    """BS.1770 calibrates a 0 dBFS 997 Hz sine in one channel to -3.01 LKFS; in both
    channels at -20 dBFS that is -3.01 - 20 + 3.01 = -20.0 LUFS."""
    rate = 48_000
    tone = sine(997, 5.0, rate, 10 ** (-20 / 20))
    source = tmp_path / "tone.wav"
    write_wav(source, tone, rate)
    result = process_audio(source, tmp_path / "out")
    reference = pyloudnorm.Meter(rate).integrated_loudness(read_wav(source))
    assert result.integrated_lufs == pytest.approx(-20.0, abs=0.5)
    assert result.integrated_lufs == pytest.approx(reference, abs=0.1)
    assert result.true_peak_dbtp == pytest.approx(-20.0, abs=0.2)


@pytest.mark.parametrize("rate", [44_100, 48_000])
def test_streamed_gated_loudness_matches_pyloudnorm(rate: int) -> None:
    """Noise with a quiet stretch exercises both gates; fed in uneven chunks."""
    rng = np.random.default_rng(rate)
    loud = rng.normal(0, 0.1, size=(rate * 3, 2))
    quiet = rng.normal(0, 0.001, size=(rate * 2, 2))
    signal = np.concatenate([loud, quiet, loud * 0.5])
    meter = LoudnessMeter(rate, 2)
    planar = signal.T.astype(np.float32)
    for start in range(0, planar.shape[1], 12_345):
        meter.add(planar[:, start : start + 12_345])
    reference = pyloudnorm.Meter(rate).integrated_loudness(planar.T.astype(np.float64))
    measured = meter.integrated()
    assert measured is not None
    assert measured == pytest.approx(reference, abs=0.2)


def test_silence_and_very_short_files_have_no_loudness(tmp_path: Path) -> None:
    meter = LoudnessMeter(48_000, 2)
    meter.add(np.zeros((2, 48_000), dtype=np.float32))
    assert meter.integrated() is None
    short = LoudnessMeter(48_000, 1)
    short.add(np.full((1, 9_000), 0.5, dtype=np.float32))
    assert short.integrated() is None


def test_true_peak_finds_the_peak_between_samples() -> None:
    """A quarter-rate sine sampled 45° off its crest: samples reach 0.354, the wave 0.5."""
    n = np.arange(48_000)
    signal = (0.5 * np.sin(math.pi / 2 * n + math.pi / 4)).astype(np.float32)[None, :]
    meter = TruePeakMeter(1)
    for start in range(0, signal.shape[1], 7_001):
        meter.add(signal[:, start : start + 7_001])
    assert float(np.abs(signal).max()) == pytest.approx(0.3536, abs=1e-3)
    assert meter.dbtp() == pytest.approx(20 * math.log10(0.5), abs=0.3)


@pytest.mark.parametrize("name", ["truncated.wav", "not-audio.bin"])
def test_fixtures_that_are_not_playable_audio_are_rejected(name: str, tmp_path: Path) -> None:
    with pytest.raises(MediaRejected) as rejected:
        process_audio(FIXTURES / name, tmp_path / "out")
    assert rejected.value.reason.endswith(".")
    assert list((tmp_path / "out").iterdir()) == []


def test_a_file_cut_off_mid_data_is_rejected_as_truncated(tmp_path: Path) -> None:
    whole = tmp_path / "whole.wav"
    write_wav(whole, sine(440, 3.0, 44_100, 0.3), 44_100)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(MediaRejected, match="cut off"):
        process_audio(cut, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_longer_than_the_limit_is_rejected(tmp_path: Path) -> None:
    source = tmp_path / "long.wav"
    write_wav(source, sine(440, 3.0, 22_050, 0.3), 22_050)
    with pytest.raises(MediaRejected, match="2 s"):
        process_audio(source, tmp_path / "out", MediaLimits(max_duration_seconds=2.0))
    assert process_audio(source, tmp_path / "ok", MediaLimits(max_duration_seconds=4.0))


def test_more_decoded_data_than_the_cap_is_rejected_while_decoding(tmp_path: Path) -> None:
    source = tmp_path / "big.wav"
    write_wav(source, sine(440, 3.0, 22_050, 0.3), 22_050)
    cap = 22_050 * 2 * 4  # one second of float32 stereo
    with pytest.raises(MediaRejected, match="more data"):
        process_audio(source, tmp_path / "out", MediaLimits(max_decoded_bytes=cap))
    assert list((tmp_path / "out").iterdir()) == []


def test_artwork_fits_boxes_as_webp_without_upscaling() -> None:
    images = artwork_sizes((FIXTURES / "cover-600.png").read_bytes())
    assert [i.size for i in images] == [64, 300, 1200]
    dims = [Image.open(io.BytesIO(i.data)).size for i in images]
    assert dims == [(64, 64), (300, 300), (600, 600)]
    assert {Image.open(io.BytesIO(i.data)).format for i in images} == {"WEBP"}
    assert {i.content_type for i in images} == {"image/webp"}
    small = artwork_sizes((FIXTURES / "cover-64.webp").read_bytes())
    assert [Image.open(io.BytesIO(i.data)).size for i in small] == [(64, 64)] * 3


def test_artwork_keeps_its_aspect_and_loses_its_metadata() -> None:
    wide = Image.new("RGB", (800, 400), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010E] = "secret camera notes"  # ImageDescription
    buffer = io.BytesIO()
    wide.save(buffer, format="JPEG", exif=exif, icc_profile=b"\0" * 128)
    images = artwork_sizes(buffer.getvalue(), (300,))
    out = Image.open(io.BytesIO(images[0].data))
    assert out.size == (300, 150)
    assert not out.info.get("exif") and not out.info.get("icc_profile")
    assert b"secret camera notes" not in images[0].data


def test_decompression_bombs_and_damaged_images_are_rejected() -> None:
    bomb = io.BytesIO()
    Image.new("1", (8_000, 8_000)).save(bomb, format="PNG")
    with pytest.raises(MediaRejected, match="megapixels"):
        artwork_sizes(bomb.getvalue())
    with pytest.raises(MediaRejected, match="damaged"):
        artwork_sizes((FIXTURES / "truncated.png").read_bytes())
    with pytest.raises(MediaRejected):
        artwork_sizes(b"not an image at all")


def test_rates_above_48k_are_brought_down_to_48k(tmp_path: Path) -> None:
    source = tmp_path / "hires.wav"
    write_wav(source, sine(1000, 1.0, 96_000, 0.25), 96_000)
    result = process_audio(source, tmp_path / "out")
    assert result.sample_rate == 48_000
    assert result.duration_seconds == 1.0
    assert decoded(result.renditions[1].path)[3] == 48_000
