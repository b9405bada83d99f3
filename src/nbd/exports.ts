// The exports a server offers: one per volume of the array, named after it; the empty name is
// the first volume (lowest id). Every connection to one volume shares one Volume object, so
// its range lock orders read-modify-writes of one track across connections, not only within
// one.

import type { HostIo } from '../lsa/engine-ports';
import type { VolumeState } from '../lsa/volume-state';
import { volumeOf, type BlockDevice, type Volume } from '../volume/volume';
import { formatSize } from '../util/size';
import {
  TFLAG_CAN_MULTI_CONN, TFLAG_HAS_FLAGS, TFLAG_READ_ONLY, TFLAG_SEND_DF, TFLAG_SEND_FLUSH,
  TFLAG_SEND_FUA, TFLAG_SEND_TRIM, TFLAG_SEND_WRITE_ZEROES,
} from './constants';

/** Read-only exports beside the volumes (a secondary's snapshots, named VOLUME@SNAPSHOT). */
export interface ExtraExports {
  resolve(name: string): BlockDevice | null;
  names(): string[];
}

export interface NbdExport {
  name: string;
  volume: BlockDevice;
  readOnly: boolean;
  description: string;
}

export class ExportTable {
  private volumes = new Map<string, Volume>();

  constructor(private readonly engine: HostIo, readonly readOnly: boolean, private readonly extra: ExtraExports | null = null) {}

  /** The export a client names, or null. The name is untrusted: any string. */
  resolve(name: string): NbdExport | null {
    if (this.extra && name.includes('@')) {
      const dev = this.extra.resolve(name);
      return dev ? { name: dev.name, volume: dev, readOnly: true, description: describe(dev, true) } : null;
    }
    const state = name === '' ? this.firstState() : this.engine.volumesByName.get(name);
    if (!state) return null;
    let v = this.volumes.get(state.row.name);
    if (!v || v.state !== state) {
      v = volumeOf(this.engine, state);
      this.volumes.set(state.row.name, v);
    }
    return { name: v.name, volume: v, readOnly: this.readOnly, description: describe(v, this.readOnly) };
  }

  list(): NbdExport[] {
    const names = [...this.engine.volumesById.values()].sort((a, b) => a.row.id - b.row.id).map((s) => s.row.name);
    return [...names, ...(this.extra?.names() ?? [])].map((n) => this.resolve(n)).filter((e): e is NbdExport => e !== null);
  }

  private firstState(): VolumeState | undefined {
    let first: VolumeState | undefined;
    for (const s of this.engine.volumesById.values()) if (!first || s.row.id < first.row.id) first = s;
    return first;
  }
}

function describe(v: BlockDevice, readOnly: boolean): string {
  return `lsa volume ${v.name}: ${formatSize(v.sizeBytes)}, ${formatSize(v.trackBytes)} tracks${readOnly ? ', read-only' : ''}`;
}

/** Transmission flags: exactly what this server does for this export. CAN_MULTI_CONN holds
 * because every connection shares one engine, and a flush makes durable every write that
 * completed before it, from any connection. DF only with structured replies (a READ is
 * always answered with one chunk). */
export function transmissionFlags(exp: NbdExport, structured: boolean): number {
  let flags = TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_SEND_FUA | TFLAG_CAN_MULTI_CONN;
  if (exp.readOnly) flags |= TFLAG_READ_ONLY;
  else flags |= TFLAG_SEND_TRIM | TFLAG_SEND_WRITE_ZEROES;
  if (structured) flags |= TFLAG_SEND_DF;
  return flags;
}
