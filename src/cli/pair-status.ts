// A running primary's pair status over the control API, and how far the pair is from duplex:
// shared by `lsa status --wait` and `lsa up`.

import { controlRequest, type ControlTarget } from './control-client';

export interface PairRow {
  volume: string; state: string; mode: string | null; lagSeq: number; lagBytes: number; outOfSyncTracks: number;
  lastAppliedSeq: number; copyProgress: number; tracking?: boolean; error?: string | null; bytesShipped?: number;
}

export interface StatusReply {
  role: unknown;
  dir: unknown;
  connected: unknown;
  volumes: PairRow[];
}

export const POLL_MS = 250;

export async function fetchStatus(to: ControlTarget): Promise<StatusReply> {
  const r = await controlRequest(to, { method: 'GET', path: '/status', what: 'status' });
  return { role: r.json.role, dir: r.json.dir, connected: r.json.connected, volumes: (r.json.volumes ?? []) as PairRow[] };
}

export const isDuplex = (s: StatusReply): boolean => s.volumes.length > 0 && s.volumes.every((v) => v.state === 'duplex' && v.lagSeq === 0);

/** Share of the work left to reach duplex that is done: the initial copy's progress, and for a
 * resync the out-of-sync tracks shipped since the wait began. */
export function doneShare(s: StatusReply, outOfSyncAtStart: Map<string, number>): number {
  if (s.volumes.length === 0) return 0;
  let sum = 0;
  for (const v of s.volumes) {
    if (v.state === 'duplex-pending') sum += v.copyProgress;
    else if (v.state === 'resync') {
      const start = Math.max(outOfSyncAtStart.get(v.volume) ?? 0, v.outOfSyncTracks);
      sum += start > 0 ? 1 - v.outOfSyncTracks / start : 0;
    } else sum += v.state === 'duplex' ? 1 : 0;
  }
  return sum / s.volumes.length;
}
