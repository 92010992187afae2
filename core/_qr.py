"""QR codes for station posters: error correction Q, a quiet zone, the number under it."""

from __future__ import annotations

import io

import segno
from markupsafe import escape

__all__ = ["qr_png", "qr_svg"]

ERROR = "q"
QUIET_ZONE = 4


def qr_svg(url: str, number: int | str | None, caption: str = "", *, scale: int = 8) -> str:
    """An SVG of the code with the station number or a short code (and a caption) printed
    under it; ``number=None`` for a code that is printed with its caption only."""
    qr = segno.make(url, error=ERROR, boost_error=True)
    width, height = qr.symbol_size(scale=scale, border=QUIET_ZONE)
    inner = qr.svg_inline(scale=scale, border=QUIET_ZONE, omitsize=False)
    label = "" if number is None else str(number)
    text_h = (56 if caption else 40) if label else (32 if caption else 0)
    total_h = height + text_h
    caption_svg = (
        f'<text x="{width / 2}" y="{height + (48 if label else 22)}" font-size="16" '
        f'text-anchor="middle" '
        f'font-family="sans-serif">{escape(caption)}</text>'
        if caption
        else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total_h}" '
        f'width="{width}" height="{total_h}" role="img" aria-label="QR {escape(label or caption)}">'
        f'<rect width="100%" height="100%" fill="#fff"/>{inner}'
        + (
            f'<text x="{width / 2}" y="{height + 20}" font-size="24" font-weight="700" '
            f'text-anchor="middle" font-family="sans-serif">{escape(label)}</text>'
            if label
            else ""
        )
        + f"{caption_svg}</svg>"
    )


def qr_png(url: str, number: int, *, scale: int = 10) -> bytes:
    """A PNG of the code with the station number under it."""
    from PIL import Image, ImageDraw, ImageFont

    qr = segno.make(url, error=ERROR, boost_error=True)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=QUIET_ZONE)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    label_h = scale * 6
    sheet = Image.new("RGB", (code.width, code.height + label_h), "white")
    sheet.paste(code, (0, 0))
    draw = ImageDraw.Draw(sheet)
    try:
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.load_default(
            size=label_h // 2
        )
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    draw.text(
        (code.width / 2, code.height + label_h / 3),
        str(number),
        fill="black",
        font=font,
        anchor="mm",
    )
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()
