// XOR with WebAssembly SIMD. On the bench machine it XORs 256 MiB in 20-37 ms where the JS
// Int32Array loop takes 180-245 ms, and parity of every host byte was the engine's largest
// main-thread cost. WebAssembly code only reaches its own linear memory, so the buffers it
// works on live in one: an `XorSlab` is a WebAssembly.Memory of fixed size (never grown, so
// Buffers on it stay valid) that callers carve into buffers. `xorInto` (parity.ts) uses the
// kernel whenever both operands lie in the same slab, and plain JS otherwise.
//
// The module, hand-assembled below (no toolchain, no package): it imports its memory as
// env.mem and exports one function
//
//   xor(dst: i32, src: i32, len: i32)   for (i = 0; i < len; i += 64) mem[dst+i..+64] ^= mem[src+i..+64]
//
// as four v128 load/load/xor/store per iteration. `len` must be a multiple of XOR_BLOCK_BYTES.

import { assert } from '../errors';

/** The kernel works in blocks of this many bytes; callers do the tail in JS. */
export const XOR_BLOCK_BYTES = 64;
/** WebAssembly pages are 64 KiB. */
const WASM_PAGE_BYTES = 64 * 1024;
/** The largest slab made: above this the caller uses ordinary Buffers (and JS XOR). */
export const XOR_SLAB_BYTES_MAX = 1024 * 1024 * 1024;

// opcodes used below
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_GE_U = 0x4f;
const BLOCK = 0x02;
const LOOP = 0x03;
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const SIMD = 0xfd;
const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const V128_XOR = 0x51;
const I32 = 0x7f;

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...leb128(body.length), ...body];
}

function name(s: string): number[] {
  return [...leb128(s.length), ...Buffer.from(s, 'latin1')];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const [dst, src, len, end] = [0, 1, 2, 3];
  const memarg = (offset: number): number[] => [4, ...leb128(offset)]; // align 2^4, offset
  const body: number[] = [LOCAL_GET, dst, LOCAL_GET, len, I32_ADD, LOCAL_SET, end];
  body.push(BLOCK, VOID, LOOP, VOID, LOCAL_GET, dst, LOCAL_GET, end, I32_GE_U, BR_IF, 1);
  for (let off = 0; off < XOR_BLOCK_BYTES; off += 16) {
    body.push(
      LOCAL_GET, dst,
      LOCAL_GET, dst, SIMD, V128_LOAD, ...memarg(off),
      LOCAL_GET, src, SIMD, V128_LOAD, ...memarg(off),
      SIMD, V128_XOR,
      SIMD, V128_STORE, ...memarg(off),
    );
  }
  const step = [I32_CONST, 0xc0, 0x00]; // i32.const 64 (signed LEB128)
  body.push(LOCAL_GET, dst, ...step, I32_ADD, LOCAL_SET, dst, LOCAL_GET, src, ...step, I32_ADD, LOCAL_SET, src);
  body.push(BR, 0, END, END, END);
  const fn = [1, 1, I32, ...body]; // one local group: 1 x i32 (end)
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 3, I32, I32, I32, 0]), // type 0: (i32 i32 i32) -> ()
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 0x00]), // import memory, min 0
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(7, [1, ...name('xor'), 0x00, 0]), // export function 0 as "xor"
    ...section(10, [1, ...leb128(fn.length), ...fn]),
  ]);
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is not available. */
function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(moduleBytes());
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

type XorFn = (dst: number, src: number, len: number) => void;

const slabs = new WeakMap<ArrayBufferLike, XorSlab>();

/** One fixed-size WebAssembly memory with the XOR kernel bound to it. */
export class XorSlab {
  /** All of the slab's memory; callers take subarrays of it. */
  readonly bytes: Buffer;

  private constructor(memory: WebAssembly.Memory, private readonly fn: XorFn) {
    this.bytes = Buffer.from(memory.buffer);
  }

  /** A slab of at least `bytes`, or null when WebAssembly cannot provide one (no SIMD, no
   * memory, or more than XOR_SLAB_BYTES_MAX). */
  static create(bytes: number): XorSlab | null {
    const mod = kernelModule();
    if (!mod || bytes > XOR_SLAB_BYTES_MAX) return null;
    const pages = Math.ceil(bytes / WASM_PAGE_BYTES);
    try {
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
      const instance = new WebAssembly.Instance(mod, { env: { mem: memory } });
      const slab = new XorSlab(memory, instance.exports.xor as XorFn);
      slabs.set(memory.buffer, slab);
      return slab;
    } catch {
      return null; // out of address space: the caller falls back to ordinary buffers
    }
  }

  /** target ^= source over the first min(lengths) bytes; both must be views of this slab. */
  xor(target: Buffer, source: Buffer): void {
    assert(target.buffer === this.bytes.buffer && source.buffer === this.bytes.buffer, 'xor operands in the slab');
    const n = Math.min(target.length, source.length);
    const blocks = n - (n % XOR_BLOCK_BYTES);
    if (blocks > 0) this.fn(target.byteOffset, source.byteOffset, blocks);
    for (let i = blocks; i < n; i++) target[i] ^= source[i];
  }
}

/** The slab both buffers are views of, if any. */
export function sharedSlab(a: Buffer, b: Buffer): XorSlab | undefined {
  if (a.buffer !== b.buffer) return undefined;
  return slabs.get(a.buffer);
}
