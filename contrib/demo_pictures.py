"""Draw the demo tour's station illustrations (flat shapes, no downloads):
``python contrib/demo_pictures.py`` writes config/demo/tours/media/img/*.png."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "config" / "demo" / "tours" / "media" / "img"
W, H = 780, 440
SKY, FLOOR, STEEL, DARK, ACCENT, WARN = (
    "#dfe7ef",
    "#9aa4ae",
    "#7d8b99",
    "#33414f",
    "#0b5fa5",
    "#e8a317",
)


def base() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGB", (W, H), SKY)
    d = ImageDraw.Draw(img)
    d.rectangle([0, 330, W, H], fill=FLOOR)
    for x in range(0, W, 60):  # roof trusses of the hall
        d.line([x, 0, x + 30, 40], fill="#c3ccd6", width=3)
    d.rectangle([0, 36, W, 44], fill="#c3ccd6")
    return img, d


def warehouse(d: ImageDraw.ImageDraw) -> None:
    d.rectangle([40, 60, 740, 72], fill=WARN)  # crane girder
    d.rectangle([360, 72, 400, 100], fill=DARK)
    d.line([380, 100, 380, 190], fill=DARK, width=4)
    d.ellipse([330, 190, 430, 290], fill=STEEL, outline=DARK, width=6)
    d.ellipse([365, 225, 395, 255], fill=SKY)
    for x in (80, 200, 520, 640):
        d.ellipse([x, 250, x + 100, 350], fill=STEEL, outline=DARK, width=6)
        d.ellipse([x + 35, 285, x + 65, 315], fill=SKY)


def press(d: ImageDraw.ImageDraw) -> None:
    d.rectangle([250, 70, 530, 120], fill=ACCENT)
    d.rectangle([260, 120, 300, 330], fill=ACCENT)
    d.rectangle([480, 120, 520, 330], fill=ACCENT)
    d.rectangle([300, 150, 480, 200], fill=DARK)  # ram
    d.rectangle([300, 280, 480, 330], fill=DARK)  # bolster
    d.polygon([(330, 250), (450, 250), (430, 280), (350, 280)], fill=STEEL)
    d.rectangle([540, 290, 700, 330], fill=STEEL)
    d.rectangle([80, 290, 240, 330], fill=STEEL)


def welding(d: ImageDraw.ImageDraw) -> None:
    for x0, flip in ((170, 1), (610, -1)):
        d.rectangle([x0 - 40, 290, x0 + 40, 330], fill=DARK)
        elbow = (x0 + 60 * flip, 170)
        d.line([x0, 290, *elbow], fill=WARN, width=26)
        d.line([*elbow, 390 - 40 * flip, 230], fill=WARN, width=20)
    d.rectangle([300, 250, 480, 290], fill=STEEL)
    for r in (10, 22):
        d.ellipse([390 - r, 232 - r, 390 + r, 232 + r], outline="#ffd34d", width=4)


def cnc(d: ImageDraw.ImageDraw) -> None:
    d.rounded_rectangle([180, 110, 600, 330], radius=18, fill="#eef1f4", outline=DARK, width=6)
    d.rectangle([220, 150, 440, 300], fill="#b9d3ea", outline=DARK, width=4)  # window
    d.rectangle([310, 150, 340, 230], fill=DARK)  # spindle
    d.polygon([(318, 230), (332, 230), (325, 250)], fill=WARN)
    d.rectangle([260, 260, 400, 290], fill=STEEL)
    d.rectangle([470, 150, 570, 230], fill=DARK)  # control panel
    for i in range(3):
        d.rectangle([482 + i * 30, 245, 502 + i * 30, 265], fill=ACCENT)


def qc(d: ImageDraw.ImageDraw) -> None:
    d.rectangle([170, 280, 610, 330], fill="#4a5a6a")  # granite table
    d.rectangle([220, 110, 250, 280], fill=DARK)
    d.rectangle([530, 110, 560, 280], fill=DARK)
    d.rectangle([220, 100, 560, 130], fill=ACCENT)  # bridge
    d.rectangle([400, 130, 420, 220], fill=DARK)  # probe arm
    d.ellipse([400, 218, 420, 238], fill="#d62828")
    d.polygon([(340, 280), (480, 280), (460, 240), (360, 240)], fill=STEEL)
    d.text((600, 60), "±0,01", fill=DARK)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in (
        ("warehouse", warehouse),
        ("press", press),
        ("welding", welding),
        ("cnc", cnc),
        ("qc", qc),
    ):
        img, d = base()
        draw(d)
        img.quantize(colors=32).save(OUT / f"{name}.png", optimize=True)
        print(OUT / f"{name}.png")


if __name__ == "__main__":
    main()
