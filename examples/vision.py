"""Images and PDFs in a user message, on whichever model $GENKIT_MODEL names.

    GENKIT_MODEL=openai:gpt-4o python examples/vision.py            # or anthropic:, gemini:
    GENKIT_MODEL=openai:gpt-4o python examples/vision.py cat.jpg    # your own image
    GENKIT_MODEL=test:echo python examples/vision.py                # offline, no key

With no argument the script draws a small PNG and writes a one-page PDF itself, so it
runs anywhere.  ``Image.from_file``/``Document.from_file`` read the media type from the
bytes, and genkit maps the parts to each provider's own blocks.  A model that takes no
images (a local text-only model such as GPT-2) or no PDFs is refused before anything is
sent, with ``genkit.UnsupportedParameterError``: the script says so and goes on.
"""

import struct
import sys
import tempfile
import zlib
from pathlib import Path

import genkit


def write_sample_png(path: Path) -> None:
    """A 16x16 PNG of four coloured squares, built with the standard library only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    colours = [(220, 40, 40), (40, 160, 60), (40, 80, 220), (240, 200, 40)]
    rows = b""
    for y in range(16):
        row = b"".join(bytes(colours[(y // 8) * 2 + x // 8]) for x in range(16))
        rows += b"\x00" + row  # filter type 0 before each scanline
    header = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)  # 8-bit RGB
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
    path.write_bytes(png + chunk(b"IEND", b""))


def write_sample_pdf(path: Path, text: str) -> None:
    """A valid one-page PDF that shows ``text``, with a correct cross-reference table."""
    stream = f"BT /F1 18 Tf 40 100 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 200] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(pdf)


def ask(gen: genkit.Generator, what: str, parts: list[genkit.Part]) -> None:
    """One question with ``parts``; a model that cannot read them is told apart from a failure."""
    try:
        result = gen.generate([genkit.Message("user", parts)], max_tokens=200)
    except genkit.UnsupportedParameterError as error:
        print(f"{what}: {gen.provider}:{gen.model} takes no {what}s ({error})")
        return
    print(f"{what}: {result.text.strip()}")


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        if argv:
            image_path = Path(argv[0])
        else:
            image_path = Path(tmp, "squares.png")
            write_sample_png(image_path)
        pdf_path = Path(tmp, "invoice.pdf")
        write_sample_pdf(pdf_path, "Invoice 1042: 3 lamps, total 96.00 EUR")
        try:
            gen = genkit.load()  # $GENKIT_MODEL
            print(f"model: {gen.provider}:{gen.model}")
            image = genkit.Image.from_file(image_path)  # media type sniffed from the bytes
            ask(gen, "image", [genkit.Text("What is in this image?"), image])
            document = genkit.Document.from_file(pdf_path)
            ask(gen, "PDF", [genkit.Text("What is the total of this invoice?"), document])
        except genkit.GenkitError as error:
            print(f"genkit: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
