// What upper layers plug into the engine: the collector (room maker and stream placement),
// the snapshots' pins, the remote copy's update listener, and a logger. The engine's parts read
// them from one EngineHooks object that the engine owns.

import { silentLogger, type Logger } from '../util/log';
import type { VolumeDirectory } from './directory';
import { defaultPlacement, type Placement } from './placement';

/** One host update, as the remote copy ships it: `count` tracks from `track`; data records
 * carry sequences seq .. seq + count - 1 in order, a TRIM/ZERO record one sequence. */
export interface UpdateEvent {
  volumeId: number;
  track: number;
  count: number;
  kind: 'write' | 'trim' | 'zero';
  data: Buffer | null;
  seq: number;
  timestampMs: number;
}

/** The primary side of a remote copy listens here. */
export interface UpdateListener {
  /** Called synchronously right after an update is appended; a returned promise makes the
   * host write wait for it (synchronous remote copy). */
  onUpdate(u: UpdateEvent): Promise<void> | void;
  /** After each commit: every update with a sequence below `committedBefore` is durable. */
  onCommit(committedBefore: number): void;
}

/** Records kept alive by someone other than the volume directory (snapshots). A record counts
 * once in its segment's accounting as long as the volume directory or any pin holder points at
 * it (for trim records: once per track). */
export interface RecordPins {
  isPinned(volumeId: number, track: number, segment: number, slot: number): boolean;
  /** The pin holders' directories of a volume (the collector moves what they point at too). */
  directories(volumeId: number): VolumeDirectory[];
  /** A directory returned by `directories` had entries moved. */
  markMoved(dir: VolumeDirectory): void;
  /** Makes moved entries durable; the collector calls it before it frees a victim. */
  persist(): Promise<void>;
}

/** The collector, as the engine sees it: asked to make room when a write finds none. */
export interface RoomMaker {
  makeRoom(enough: () => boolean): Promise<void>;
  /** A segment was opened (free space shrank): collect in the background if it is low. */
  notice(): void;
  /** The engine is closing: finish the batch under way (its commit and releases) and start
   * no other. */
  stop(): Promise<void>;
}

export interface EngineHooks {
  log: Logger;
  pins: RecordPins | null;
  roomMaker: RoomMaker | null;
  placement: Placement;
  updateListener: UpdateListener | null;
}

export function defaultHooks(): EngineHooks {
  return { log: silentLogger, pins: null, roomMaker: null, placement: defaultPlacement, updateListener: null };
}
