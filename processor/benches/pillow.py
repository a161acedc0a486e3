"""The Pillow rows of the processor's benchmark (driven by `run`): the same task as ours, the
way the seed stack's Python function does it. Each image is opened once, fitted inside 800x800
with `thumbnail` (Lanczos3, and Pillow's own JPEG draft mode: DCT scaling down to twice the
target, its default `reducing_gap`), then saved as JPEG q80 and WebP q80.

With --resize, the fit is `Image.resize` to the same size instead: the whole image decoded, then
Lanczos3 from full size, as code that calls `resize` does (and as processor.md's Pillow anchor
was measured).

usage: pillow.py [--resize] CORPUS OUT ROUNDS; prints one JSON line of figures, and where the
time went to stderr.
"""

import io
import json
import os
import sys
import time
from collections import defaultdict

import PIL
from PIL import Image

BOX = (800, 800)
QUALITY = 80


def peak_rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def fitted(image, resize):
    if not resize:
        image.thumbnail(BOX, Image.Resampling.LANCZOS)
        return image
    scale = min(BOX[0] / image.width, BOX[1] / image.height, 1)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def render(data, resize, seconds):
    started = time.perf_counter()
    with Image.open(io.BytesIO(data)) as image:
        image = fitted(image, resize).convert("RGB")
    seconds["decode and fit"] += time.perf_counter() - started
    outputs = {}
    for extension, kind in (("jpg", "JPEG"), ("webp", "WEBP")):
        started = time.perf_counter()
        encoded = io.BytesIO()
        image.save(encoded, kind, quality=QUALITY)
        outputs[extension] = encoded.getvalue()
        seconds[extension] += time.perf_counter() - started
    return outputs


def main():
    resize = sys.argv[1] == "--resize"
    corpus, out, rounds = sys.argv[1 + resize], sys.argv[2 + resize], int(sys.argv[3 + resize])
    engine = "pillow-resize" if resize else "pillow"
    names = sorted(n for n in os.listdir(corpus) if os.path.isfile(os.path.join(corpus, n)))
    sources = []
    for name in names:
        with open(os.path.join(corpus, name), "rb") as f:
            sources.append((os.path.splitext(name)[0], f.read()))
    os.makedirs(out, exist_ok=True)
    # The first round writes the outputs scored later and warms the caches; it is not timed.
    for stem, data in sources:
        for extension, encoded in render(data, resize, defaultdict(float)).items():
            with open(os.path.join(out, f"{stem}.{extension}"), "wb") as f:
                f.write(encoded)
    stages = defaultdict(float)
    started = time.perf_counter()
    for _ in range(rounds):
        for _, data in sources:
            render(data, resize, stages)
    seconds = time.perf_counter() - started
    images = len(sources) * rounds
    spent = ", ".join(f"{stage} {total * 1000 / images:.1f} ms" for stage, total in stages.items())
    print(f"{engine}, per image: {spent}", file=sys.stderr)
    print(json.dumps({
        "engine": engine,
        "version": PIL.__version__,
        "images": images,
        "seconds": seconds,
        "peak_rss_kib": peak_rss_kib(),
    }))


main()
