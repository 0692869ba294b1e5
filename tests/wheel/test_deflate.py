"""Deflate in blocks on threads: one valid stream, the same bytes on any number of threads."""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from pathlib import Path

from condawheel.wheel.deflate import BLOCK, Deflater, blocks, deflate, deflate_block
from condawheel.wheel.writer import WheelWriter

TEXT = b"".join(b"%d: a line of text that deflate shrinks well\n" % i for i in range(80_000))


class Dribble:
    """A stream handing out its bytes in odd sizes."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0
        self._sizes = random.Random(3)

    def read(self, size: int = -1) -> bytes:
        n = self._sizes.randint(1, 300_000)
        chunk = self._data[self._offset : self._offset + n]
        self._offset += len(chunk)
        return chunk


def inflate(data: bytes) -> bytes:
    decompressor = zlib.decompressobj(-15)
    out = decompressor.decompress(data) + decompressor.flush()
    assert decompressor.eof and not decompressor.unused_data
    return out


def test_blocks_have_a_fixed_size_whatever_the_reads() -> None:
    data = TEXT[: 3 * BLOCK + 5]
    found = list(blocks(b"", Dribble(data)))
    assert [len(b) for b, _ in found] == [BLOCK, BLOCK, BLOCK, 5]
    assert [last for _, last in found] == [False, False, False, True]
    assert b"".join(b for b, _ in found) == data
    assert list(blocks(b"", io.BytesIO(TEXT[:BLOCK]))) == [(TEXT[:BLOCK], True)]
    assert list(blocks(b"", io.BytesIO())) == [(b"", True)]


def test_blocks_end_to_end_are_one_deflate_stream() -> None:
    assert len(TEXT) > 3 * BLOCK
    compressed = deflate(TEXT)
    assert inflate(compressed) == TEXT
    assert inflate(deflate(b"")) == b""
    # Priming each block with the one before keeps it close to one stream's size.
    single = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert len(compressed) < 1.05 * len(single.compress(TEXT) + single.flush())


def test_threads_give_the_same_bytes() -> None:
    parts = [TEXT[i : i + BLOCK] for i in range(0, len(TEXT), BLOCK)]
    outputs = []
    for threads in (1, 3):
        with Deflater(threads) as deflater:
            jobs = [
                deflater.submit(part, parts[i - 1] if i else b"", last=i == len(parts) - 1)
                for i, part in enumerate(parts)
            ]
            outputs.append(b"".join(job.result() for job in jobs))
    assert outputs[0] == outputs[1] == deflate(TEXT)
    assert deflate_block(parts[1], parts[0], last=True) != deflate_block(parts[1], b"", last=True)


def test_a_wheel_is_the_same_bytes_on_any_number_of_threads(tmp_path: Path) -> None:
    noise = random.Random(5).randbytes(2 * BLOCK + 17)
    wheels = []
    for threads in (1, 2, 5):
        out = tmp_path / str(threads)
        out.mkdir()
        with WheelWriter(out, date_time=(2024, 1, 2, 3, 4, 6), threads=threads) as writer:
            for i in range(40):
                writer.write_bytes(f"demo/small{i}.py", b"X = %d\n" % i * (i + 1))
            writer.write_stream("demo/text.txt", Dribble(TEXT), size_hint=len(TEXT))
            writer.write_stream("demo/noise.bin", Dribble(noise), size_hint=len(noise))
            writer.copy("demo/text.txt", "demo/copy.txt")
            wheel = out / "demo-1.0-py3-none-any.whl"
            wheels.append(writer.finish("demo-1.0.dist-info", wheel, overwrite=False, label="x"))
    assert wheels[0].read_bytes() == wheels[1].read_bytes() == wheels[2].read_bytes()
    with zipfile.ZipFile(wheels[2]) as archive:
        assert archive.testzip() is None
        assert archive.read("demo/copy.txt") == TEXT
        assert archive.read("demo/noise.bin") == noise
