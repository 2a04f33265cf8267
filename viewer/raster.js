// SPDX-License-Identifier: MIT
// Rectangles written straight into the pixels of an ImageData and put on the canvas at once:
// tens of thousands of 1-pixel columns a frame cost a few milliseconds this way, where as
// many fillRect calls (each with its fillStyle parsed) cost tens.

// A CSS colour "#rrggbb" as a pixel of an ImageData seen through a Uint32Array
// (little-endian: alpha, blue, green, red from the top byte down).
export function pixel(hex) {
  const v = parseInt(hex.slice(1), 16);
  return (0xff000000 | ((v & 0xff) << 16) | (v & 0xff00) | ((v >> 16) & 0xff)) >>> 0;
}

export class Raster {
  // Starts a frame of w × h device pixels, `scale` device pixels per CSS pixel, cleared to
  // `background`; nothing is drawn above CSS y `clipTop`.
  begin(ctx, w, h, scale, background, clipTop) {
    if (!this.img || this.img.width !== w || this.img.height !== h) {
      this.img = ctx.createImageData(w, h);
      this.px = new Uint32Array(this.img.data.buffer);
    }
    this.px.fill(background);
    this.w = w; this.h = h; this.scale = scale;
    this.top = Math.round(clipTop * scale);
  }

  // A rectangle in CSS pixels, at least one device pixel wide.
  rect(x, y, w, h, colour) {
    const s = this.scale;
    let x0 = Math.round(x * s), x1 = Math.round((x + w) * s);
    let y0 = Math.round(y * s), y1 = Math.round((y + h) * s);
    if (x1 <= x0) x1 = x0 + 1;
    if (x0 < 0) x0 = 0;
    if (x1 > this.w) x1 = this.w;
    if (y0 < this.top) y0 = this.top;
    if (y1 > this.h) y1 = this.h;
    const px = this.px, stride = this.w;
    if (x1 - x0 <= 8) { // narrow (most of them): plain stores beat a fill() call per line
      for (let r = y0; r < y1; r++)
        for (let i = r * stride + x0, e = r * stride + x1; i < e; i++) px[i] = colour;
    } else {
      for (let r = y0; r < y1; r++) px.fill(colour, r * stride + x0, r * stride + x1);
    }
  }

  end(ctx) { ctx.putImageData(this.img, 0, 0); }
}
