"""The Pillow row of the processor's benchmark (driven by `run`): the same task as ours, the
way the seed stack's Python function does it. Each image is opened once, fitted inside 800x800
with `thumbnail` (Lanczos3, and Pillow's own JPEG draft mode: DCT scaling down to twice the
target, its default `reducing_gap`), then saved as JPEG q80 and WebP q80.

usage: pillow.py CORPUS OUT ROUNDS; prints one JSON line of figures.
"""

import io
import json
import os
import sys
import time

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


def render(data):
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail(BOX, Image.Resampling.LANCZOS)
        image = image.convert("RGB")
        jpeg, webp = io.BytesIO(), io.BytesIO()
        image.save(jpeg, "JPEG", quality=QUALITY)
        image.save(webp, "WEBP", quality=QUALITY)
        return {"jpg": jpeg.getvalue(), "webp": webp.getvalue()}


def main():
    corpus, out, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    names = sorted(n for n in os.listdir(corpus) if os.path.isfile(os.path.join(corpus, n)))
    sources = []
    for name in names:
        with open(os.path.join(corpus, name), "rb") as f:
            sources.append((os.path.splitext(name)[0], f.read()))
    os.makedirs(out, exist_ok=True)
    # The first round writes the outputs scored later and warms the caches; it is not timed.
    for stem, data in sources:
        for extension, encoded in render(data).items():
            with open(os.path.join(out, f"{stem}.{extension}"), "wb") as f:
                f.write(encoded)
    started = time.perf_counter()
    for _ in range(rounds):
        for _, data in sources:
            render(data)
    seconds = time.perf_counter() - started
    print(json.dumps({
        "engine": "pillow",
        "version": PIL.__version__,
        "images": len(sources) * rounds,
        "seconds": seconds,
        "peak_rss_kib": peak_rss_kib(),
    }))


main()
