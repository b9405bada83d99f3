// The checker that ships with the product (`lsa check`): every directory entry points at a
// record that says it is that track, with a good CRC; segment accounting adds up; every closed
// segment's parity matches its data columns. Tests run it after every crash.

import { xorInto } from '../array/parity';
import { rewriteParity } from '../array/rewrite-parity';
import type { CheckTarget } from './engine-ports';
import { collectorOf } from './collector';
import { expectedAccounting } from './accounting';
import { ENTRY_WORDS } from './directory';
import { RECORD_HEADER_BYTES, isTrimLike, tryDecodeHeader } from './record-format';
import { codecOfFlags, expandTrack } from './track-codec';
import { crc32 } from 'node:zlib';

export type ProblemKind =
  | 'bad-record' | 'crc-mismatch' | 'wrong-record' | 'dangling-entry'
  | 'live-bytes' | 'trim-refs' | 'parity-mismatch' | 'read-error' | 'disk-failed' | 'lost'
  /** A data record whose CRC holds but whose payload is not one track (after decompression). */
  | 'bad-payload'
  /** A snapshot file that does not decode or does not fit the array (the command adds these). */
  | 'bad-snapshot';

export interface Problem {
  kind: ProblemKind;
  message: string;
  volume?: string;
  track?: number;
  segment?: number;
  disk?: number;
  offset?: number;
  length?: number;
  repaired?: boolean;
}

export interface CheckReport {
  ok: boolean;
  degraded: boolean;
  repaired: number;
  unrepaired: number;
  problems: Problem[];
  tracksChecked: number;
  recordsChecked: number;
  segmentsChecked: number;
  parityChecked: number;
}

export interface CheckOptions {
  parity?: boolean;
  onProgress?: (done: number, total: number, what: string) => void;
  /** Stop collecting after this many problems (the report says how many were seen). */
  problemsMax?: number;
  /** Fix what one column's worth of damage allows: rebuild damaged records from parity and
   * move their segments' live data away; rewrite parity that disagrees with good data. */
  repair?: boolean;
}

export async function checkArray(engine: CheckTarget, opts: CheckOptions = {}): Promise<CheckReport> {
  const report: CheckReport = {
    ok: true, degraded: engine.array.degraded, repaired: 0, unrepaired: 0,
    problems: [], tracksChecked: 0, recordsChecked: 0, segmentsChecked: 0, parityChecked: 0,
  };
  const problemsMax = opts.problemsMax ?? 1000;
  const add = (p: Problem): void => {
    report.ok = false;
    if (report.problems.length < problemsMax) report.problems.push(p);
  };
  const layout = engine.layout;
  engine.array.health.forEach((h, disk) => {
    if (h !== 'ok') add({ kind: 'disk-failed', disk, message: `disk ${disk} is ${h}: reads are rebuilt from parity; replace it with: lsa rebuild --dir ${engine.dir} --disk ${disk}` });
  });
  const damaged = new Set<number>();
  const totalTracks = [...engine.volumesById.values()].reduce((s, v) => s + v.tracks, 0);
  let done = 0;
  for (const v of engine.volumesById.values()) {
    const dir = v.directory;
    const words = dir.words;
    for (let t = 0; t < v.tracks; t++) {
      done++;
      if (opts.onProgress && done % 4096 === 0) opts.onProgress(done, totalTracks, 'directory');
      const seg = words[t * ENTRY_WORDS];
      if (seg === 0) continue;
      report.tracksChecked++;
      const e = dir.get(t);
      const where = { volume: v.row.name, track: t, segment: seg, offset: e.slot };
      const state = seg < layout.segments ? engine.segments.row(seg).state : 'missing';
      if (state !== 'open' && state !== 'closed' && state !== 'collecting') {
        add({ kind: 'dangling-entry', message: `volume ${v.row.name} track ${t} points at segment ${seg}, which is ${state}`, ...where });
        continue;
      }
      let rec: Buffer;
      try {
        rec = await engine.readRecordBytes(e);
      } catch (err) {
        add({ kind: (err as { code?: string }).code === 'LSA_DATA_LOST' ? 'lost' : 'read-error', message: `volume ${v.row.name} track ${t}: ${(err as Error).message}`, ...where });
        damaged.add(seg);
        continue;
      }
      report.recordsChecked++;
      const h = tryDecodeHeader(rec, 0);
      if (!h) {
        add({ kind: 'bad-record', message: `volume ${v.row.name} track ${t}: no valid record header at segment ${seg} slot ${e.slot}`, ...where, length: e.recordBytes });
        damaged.add(seg);
        continue;
      }
      const covers = h.track <= t && t < h.track + h.trackCount;
      if (h.volumeId !== v.row.id || !covers || h.seq !== e.seq || h.flags !== e.flags || h.payloadBytes !== e.payloadBytes) {
        add({ kind: 'wrong-record', message: `volume ${v.row.name} track ${t}: segment ${seg} slot ${e.slot} holds volume ${h.volumeId} track ${h.track} seq ${h.seq}, expected seq ${e.seq}`, ...where });
        damaged.add(seg);
        continue;
      }
      if (h.payloadBytes > 0) {
        const payload = rec.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + h.payloadBytes);
        if (crc32(payload) !== h.payloadCrc || h.payloadCrc !== e.payloadCrc) {
          add({ kind: 'crc-mismatch', message: `volume ${v.row.name} track ${t}: payload CRC mismatch at segment ${seg} slot ${e.slot}`, ...where, length: e.recordBytes });
          damaged.add(seg);
        } else if (!isTrimLike(h.flags)) {
          // the bytes are as written; a payload that does not expand to one track is a bug
          // that parity cannot undo, so it is reported and not "repaired"
          try {
            expandTrack(codecOfFlags(h.flags), payload, layout.trackBytes, where);
          } catch (err) {
            add({ kind: 'bad-payload', message: (err as Error).message, ...where, length: e.recordBytes });
          }
        }
      }
    }
  }
  const { liveBytes: live, trimRefs: refs } = expectedAccounting(engine);
  await checkPinnedRecords(engine, add, report);
  for (let s = 1; s < layout.segments; s++) {
    const row = engine.segments.row(s);
    report.segmentsChecked++;
    if (row.liveBytes !== live[s]) {
      add({ kind: 'live-bytes', segment: s, message: `segment ${s} (${row.state}) records ${row.liveBytes} live bytes, the directory adds up to ${live[s]}` });
    }
    if (row.trimRefs !== refs[s]) {
      add({ kind: 'trim-refs', segment: s, message: `segment ${s} (${row.state}) records ${row.trimRefs} trim references, the directory has ${refs[s]}` });
    }
  }
  // parity can only be verified with every disk readable
  if ((opts.parity ?? true) && !engine.array.degraded) {
    const closed = engine.segments.rows.filter((r) => r.state === 'closed' && !engine.isInMemory(r.index));
    for (let i = 0; i < closed.length; i++) {
      opts.onProgress?.(i, closed.length, 'parity');
      const s = closed[i].index;
      const mismatch = await parityMismatch(engine, s);
      report.parityChecked++;
      if (mismatch >= 0) {
        damaged.add(s);
        add({
          kind: 'parity-mismatch', segment: s, disk: layout.parityDisk(s), offset: mismatch,
          message: `segment ${s}: parity does not match the data columns (first difference at column byte ${mismatch})`,
        });
      }
    }
  }
  if (opts.repair && damaged.size > 0) await repairSegments(engine, [...damaged], report);
  for (const p of report.problems) if (!p.repaired) report.unrepaired++;
  report.ok = report.unrepaired === 0;
  return report;
}

/** Repair: move every live record out of each damaged segment (damaged records are rebuilt
 * from parity on the way) and free it; a segment whose records are all good but whose parity
 * disagrees gets its parity rewritten. Marks the problems it fixed. */
async function repairSegments(engine: CheckTarget, segments: number[], report: CheckReport): Promise<void> {
  const collector = collectorOf(engine);
  const fixed = new Set<number>();
  for (const s of segments) {
    const row = engine.segments.row(s);
    if (row.state !== 'closed') continue;
    const onlyParity = report.problems.every((p) => p.segment !== s || p.kind === 'parity-mismatch');
    if (onlyParity && !engine.array.degraded) {
      await rewriteParity(engine.array, s);
      await engine.array.sync();
      fixed.add(s);
      continue;
    }
    if (collector && (await collector.evacuate([s])) === 1) fixed.add(s);
  }
  await engine.flush();
  for (const p of report.problems) {
    if (p.segment !== undefined && fixed.has(p.segment) && p.kind !== 'disk-failed') {
      p.repaired = true;
      report.repaired++;
    }
  }
}

/** First column byte where parity disagrees with the data columns, or -1. */
export async function parityMismatch(engine: Pick<CheckTarget, 'layout' | 'array'>, segment: number): Promise<number> {
  const cb = engine.layout.columnBytes;
  const acc = Buffer.alloc(cb);
  const col = Buffer.alloc(cb);
  if (!(await engine.array.readParity(segment, 0, acc))) return -1;
  for (let c = 0; c < engine.layout.dataColumns; c++) {
    await engine.array.readColumn(segment, c, 0, col);
    xorInto(acc, col);
  }
  if (acc.equals(Buffer.alloc(cb))) return -1;
  for (let i = 0; i < cb; i++) if (acc[i] !== 0) return i;
  return -1;
}

/** Every entry of every snapshot (pin holder) points at a record that says it is that track. */
async function checkPinnedRecords(engine: CheckTarget, add: (p: Problem) => void, report: CheckReport): Promise<void> {
  if (!engine.pins) return;
  for (const v of engine.volumesById.values()) {
    for (const dir of engine.pins.directories(v.row.id)) {
      for (let t = 0; t < v.tracks; t++) {
        const seg = dir.words[t * ENTRY_WORDS];
        if (seg === 0) continue;
        const e = dir.get(t);
        if (v.directory.segmentOf(t) === seg && v.directory.slotOf(t) === e.slot) continue; // checked with the volume
        report.recordsChecked++;
        const where = { volume: v.row.name, track: t, segment: seg, offset: e.slot };
        const state = engine.segments.row(seg)?.state;
        if (state !== 'open' && state !== 'closed' && state !== 'collecting') {
          add({ kind: 'dangling-entry', message: `a snapshot of ${v.row.name} points track ${t} at segment ${seg}, which is ${state}`, ...where });
          continue;
        }
        let rec: Buffer;
        try {
          rec = await engine.readRecordBytes(e);
        } catch (err) {
          add({ kind: 'read-error', message: `snapshot of ${v.row.name} track ${t}: ${(err as Error).message}`, ...where });
          continue;
        }
        const h = tryDecodeHeader(rec, 0);
        const covers = h ? h.track <= t && t < h.track + h.trackCount : false;
        if (!h || !covers || h.seq !== e.seq || h.volumeId !== v.row.id) {
          add({ kind: 'wrong-record', message: `a snapshot of ${v.row.name}: track ${t} points at segment ${seg} slot ${e.slot}, which holds something else`, ...where });
          continue;
        }
        if (h.payloadBytes > 0 && crc32(rec.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + h.payloadBytes)) !== h.payloadCrc) {
          add({ kind: 'crc-mismatch', message: `a snapshot of ${v.row.name}: track ${t}: payload CRC mismatch at segment ${seg} slot ${e.slot}`, ...where });
        }
      }
    }
  }
}
