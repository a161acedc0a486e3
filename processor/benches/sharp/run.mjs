// The sharp row of the processor's benchmark (driven by `../run`): the same task as ours with
// sharp's prebuilt libvips. Each image is decoded once (shrink-on-load as sharp does by
// default), fitted inside 800x800 with Lanczos3 to raw pixels, which are then encoded as JPEG
// q80 and WebP q80. One libvips thread and no operation cache, as sharp's own benchmark runs.
//
// usage: node run.mjs CORPUS OUT ROUNDS; prints one JSON line of figures.

import { readdirSync, readFileSync, writeFileSync, mkdirSync, statSync } from "node:fs";
import { join, parse } from "node:path";
import sharp from "sharp";

const BOX = 800;
const QUALITY = 80;

sharp.concurrency(1);
sharp.cache(false);

function peakRssKib() {
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmHWM:"));
  return Number(line.split(/\s+/)[1]);
}

async function render(data) {
  const { data: pixels, info } = await sharp(data)
    .resize(BOX, BOX, { fit: "inside", kernel: "lanczos3", withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  return {
    jpg: await sharp(pixels, raw).jpeg({ quality: QUALITY }).toBuffer(),
    webp: await sharp(pixels, raw).webp({ quality: QUALITY }).toBuffer(),
  };
}

const [corpus, out, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg);
const sources = readdirSync(corpus)
  .filter((name) => statSync(join(corpus, name)).isFile())
  .sort()
  .map((name) => [parse(name).name, readFileSync(join(corpus, name))]);
mkdirSync(out, { recursive: true });
// The first round writes the outputs scored later and warms the caches; it is not timed.
for (const [stem, data] of sources) {
  for (const [extension, encoded] of Object.entries(await render(data))) {
    writeFileSync(join(out, `${stem}.${extension}`), encoded);
  }
}
const started = process.hrtime.bigint();
for (let round = 0; round < rounds; round++) {
  for (const [, data] of sources) {
    await render(data);
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({
  engine: "sharp",
  version: `${sharp.versions.sharp} (libvips ${sharp.versions.vips})`,
  images: sources.length * rounds,
  seconds,
  peak_rss_kib: peakRssKib(),
}));
