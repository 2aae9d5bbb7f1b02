#!/usr/bin/env node
/**
 * Makes the gallery's test pictures (committed under test/fixtures/images/):
 * drawn in headless Chromium (canvas → JPEG/PNG/WebP), and for one JPEG, camera and
 * GPS EXIF added with piexifjs, so tests can prove sharing removes them.
 * Usage: node scripts/make-image-fixtures.mjs
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import piexif from 'piexifjs';
import { launchChromium } from '../test/harness/browser.mjs';
import { ROOT } from '../test/harness/processes.mjs';

const out = path.join(ROOT, 'test/fixtures/images');
const browser = await launchChromium();
const page = await browser.newPage();
const draw = (width, height, hue, type) =>
  page.evaluate(
    async ([w, h, hueValue, mime]) => {
      const canvas = new OffscreenCanvas(w, h);
      const ctx = canvas.getContext('2d');
      const g = ctx.createLinearGradient(0, 0, w, h);
      g.addColorStop(0, `hsl(${hueValue} 80% 60%)`);
      g.addColorStop(1, `hsl(${(hueValue + 60) % 360} 70% 30%)`);
      ctx.fillStyle = g;
      ctx.fillRect(0, 0, w, h);
      ctx.fillStyle = 'white';
      ctx.font = `${Math.round(h / 6)}px sans-serif`;
      ctx.fillText(mime.split('/')[1], w / 10, h / 2);
      const blob = await canvas.convertToBlob({ type: mime, quality: 0.85 });
      return [...new Uint8Array(await blob.arrayBuffer())];
    },
    [width, height, hue, type],
  );

try {
  const jpeg = Buffer.from(await draw(640, 480, 20, 'image/jpeg'));
  const exif = piexif.dump({
    '0th': { [piexif.ImageIFD.Make]: 'FixtureCam', [piexif.ImageIFD.Model]: 'Model 1' },
    Exif: { [piexif.ExifIFD.DateTimeOriginal]: '2026:11:21 10:00:00' },
    GPS: {
      [piexif.GPSIFD.GPSLatitudeRef]: 'N',
      [piexif.GPSIFD.GPSLatitude]: piexif.GPSHelper.degToDmsRational(48.8584),
      [piexif.GPSIFD.GPSLongitudeRef]: 'E',
      [piexif.GPSIFD.GPSLongitude]: piexif.GPSHelper.degToDmsRational(2.2945),
    },
  });
  const withExif = piexif.insert(exif, jpeg.toString('binary'));
  await writeFile(path.join(out, 'sunset-gps.jpg'), Buffer.from(withExif, 'binary'));
  await writeFile(path.join(out, 'lake.png'), Buffer.from(await draw(400, 300, 200, 'image/png')));
  await writeFile(path.join(out, 'forest.webp'), Buffer.from(await draw(300, 300, 120, 'image/webp')));
  await writeFile(path.join(out, 'not-a-picture.jpg'), 'This is a text file with a picture’s name.\n');
  console.log('wrote test/fixtures/images/{sunset-gps.jpg, lake.png, forest.webp, not-a-picture.jpg}');
} finally {
  await browser.close();
}
