// Sizes on the command line: "4096", "4KiB", "1MiB", "4GiB", "1.5GiB", "512B", also "4K"/"4KB"
// as binary units (storage people mean 1024 when they write 4K for a block).

import { InvalidArgumentError } from '../errors';

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kb: 1024, kib: 1024,
  m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4,
};

export function parseSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new InvalidArgumentError(`${what}: cannot read "${text}" as a size; write it like 4096, 4KiB, 1MiB or 4GiB`, { text });
  }
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes)) {
    throw new InvalidArgumentError(`${what}: "${text}" is not a whole number of bytes`, { text });
  }
  return bytes;
}

/** Exact when the size is a whole number of some unit (4KiB, 1MiB), else one decimal. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = bytes;
  while (i < units.length - 1 && Math.abs(v) >= 1024) {
    v /= 1024;
    i++;
  }
  return Number.isInteger(v) ? `${v}${units[i]}` : `${v.toFixed(1)}${units[i]}`;
}

export function formatApprox(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v}B` : `${v.toFixed(v < 10 ? 2 : 1)}${units[i]}`;
}
