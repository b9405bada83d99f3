// Stream placement: which open segment a record goes to. The engine keeps one open segment per
// stream; host writes go to a hot or a cold one, collector output to its own or back among
// host data, as the collector's policy (gc-policy.ts) separates them. Whether the stream asked
// for has room is the space's business (space.ts), not the policy's.

/** Open streams: host writes (hot), host writes (cold), collector output. */
export const STREAM_HOST = 0;
export const STREAM_HOST_COLD = 1;
export const STREAM_GC = 2;
export const STREAMS = 3;
export const HOST_STREAMS = [STREAM_HOST, STREAM_HOST_COLD] as const;

/** Chooses the open segment (stream) for host and collector writes; the separating policy
 * of the collector plugs in here. */
export interface Placement {
  hostStream(volumeId: number, track: number, previousSeq: number, nowSeq: number): number;
  gcStream(seq: number, nowSeq: number): number;
  /** Every stream gcStream can return (the collector's room depends on how many). */
  readonly gcStreams: readonly number[];
}

export const defaultPlacement: Placement = {
  hostStream: () => STREAM_HOST,
  gcStream: () => STREAM_HOST,
  gcStreams: [STREAM_HOST],
};
