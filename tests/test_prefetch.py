from pathlib import Path

from qa import prefetch as prefetching


def test_every_file_is_read_through_and_missing_ones_are_skipped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(prefetching, "CHUNK", 1000)
    big = tmp_path / "vectors.npy"
    big.write_bytes(b"x" * 2500)  # three reads of the chunk, the last one short
    small = tmp_path / "dense.usearch"
    small.write_bytes(b"y" * 10)
    gone = tmp_path / "gone.npy"
    gone.write_bytes(b"z")

    assert prefetching._read_through([big, gone.with_suffix(".never"), small]) == 2510
    gone.unlink()
    thread = prefetching.prefetch([big, gone, tmp_path, small])  # a missing file and a folder are not read
    thread.join(timeout=10)
    assert not thread.is_alive()
