// The trivially correct model of a volume: a plain byte array. Shared by the tests and the
// crash campaign (`lsa crashtest`).

export class VolumeModel {
  readonly bytes: Buffer;

  constructor(readonly sizeBytes: number) {
    this.bytes = Buffer.alloc(sizeBytes);
  }

  write(offset: number, data: Buffer): void {
    data.copy(this.bytes, offset);
  }

  zero(offset: number, length: number): void {
    this.bytes.fill(0, offset, offset + length);
  }

  read(offset: number, length: number): Buffer {
    return Buffer.from(this.bytes.subarray(offset, offset + length));
  }

  clone(): VolumeModel {
    const m = new VolumeModel(this.sizeBytes);
    this.bytes.copy(m.bytes);
    return m;
  }
}

/** First differing byte, or -1. */
export function firstDiff(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
