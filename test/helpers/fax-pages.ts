// Test pages for the fax codec and the fax paths: deterministic, with the features a
// G3 coder must get right (longest runs, edge pixels, dots, shapes MR codes vertically).
import { blankBitmap, fillBlack, getRow, type Bitmap } from '../../src/fax/codec/bitmap.js';

/** A deterministic test page: bars, a diagonal, a long black run, isolated pixels. */
export function testPage(width = 1728, height = 64): Bitmap {
  const b = blankBitmap(width, height);
  for (let y = 0; y < height; y++) {
    const line = getRow(b, y);
    const row = { fill: (from: number, to: number): void => fillBlack(line, Math.min(from, width), Math.min(to, width)) };
    if (y % 16 < 3) row.fill(0, width); // full black lines: the longest runs
    row.fill((y * 7) % width, ((y * 7) % width) + 5);
    if (y % 5 === 0) row.fill(100, 100 + 2600 > width ? width : 2700);
    row.fill(width - 1, width); // a pixel at the right edge
    if (y % 2 === 1) for (let x = 3; x < 400; x += 9) row.fill(x, x + 1);
    if (y > 10 && y < 40) row.fill(500 + y, 900 - y); // a shape MR codes vertically
  }
  return b;
}

export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

export function randomPage(seed: number, width: number, height: number): Bitmap {
  const rnd = lcg(seed);
  const b = blankBitmap(width, height);
  for (let y = 0; y < height; y++) {
    const row = getRow(b, y);
    let x = 0;
    let black = false;
    while (x < width) {
      const run = rnd() % 3 === 0 ? rnd() % 3000 : rnd() % 12;
      if (black) fillBlack(row, x, Math.min(width, x + run));
      x += run;
      black = !black;
    }
    // Some lines repeat the one above, as text does, so MR's vertical mode is exercised.
    if (y > 0 && rnd() % 3 === 0) row.set(getRow(b, y - 1));
  }
  return b;
}

