// Which view `lsa inspect` shows, from its options, and rendering it as text or JSON. The
// options are checked before the array is opened (combinations); values that need the array
// (segment range, volume, track) are checked against it.

import { InvalidArgumentError } from '../../errors';
import { writeTextFile } from '../../io/host-files';
import type { ArrayView } from '../../lsa/array-view';
import { flag, optStr, type CommandContext } from '../command';
import { renderArrayText } from './array-text';
import { describeArray } from './describe-array';
import { describeSegment, parseSegmentArg, renderSegmentText } from './segment-report';
import { renderSvg } from './svg-picture';
import { locateTrack, renderTrackText, resolveTrack, resolveVolume } from './track-report';
import { checkVolumeName } from '../names';

export type Selection =
  | { kind: 'array' }
  | { kind: 'segment'; segment: string }
  | { kind: 'track'; volume: string; track?: string; offset?: string }
  | { kind: 'svg'; file: string };

export function selectionFrom(ctx: CommandContext): Selection {
  const segment = optStr(ctx, 'segment');
  const volumeText = optStr(ctx, 'volume');
  const volume = volumeText === undefined ? undefined : checkVolumeName(volumeText);
  const track = optStr(ctx, 'track');
  const offset = optStr(ctx, 'offset');
  const svg = optStr(ctx, 'svg');
  const chosen = [segment !== undefined && '--segment', volume !== undefined && '--volume', svg !== undefined && '--svg'].filter(Boolean);
  if (chosen.length > 1) throw new InvalidArgumentError(`${chosen.join(' and ')} are separate views; give one of them`);
  if ((track !== undefined || offset !== undefined) && volume === undefined) {
    throw new InvalidArgumentError(`${track !== undefined ? '--track' : '--offset'} needs the volume: add --volume NAME`);
  }
  if (flag(ctx, 'watch') && svg !== undefined) throw new InvalidArgumentError('--svg writes one picture; it does not combine with --watch');
  if (segment !== undefined) return { kind: 'segment', segment };
  if (svg !== undefined) {
    if (svg === '') throw new InvalidArgumentError('--svg needs a file name: --svg array.svg');
    return { kind: 'svg', file: svg };
  }
  if (volume !== undefined) {
    if ((track === undefined) === (offset === undefined)) {
      throw new InvalidArgumentError(track === undefined ? `say where in volume ${volume}: --track T or --offset BYTES` : 'give --track or --offset, not both');
    }
    return { kind: 'track', volume, track, offset };
  }
  return { kind: 'array' };
}

/** The selected view as text, or as JSON (one line when `compactJson`, for --watch). */
export async function renderSelection(view: ArrayView, sel: Selection, json: boolean, compactJson = false): Promise<string> {
  const asJson = (value: unknown): string => (compactJson ? JSON.stringify(value) : JSON.stringify(value, null, 2)) + '\n';
  switch (sel.kind) {
    case 'array': {
      const info = describeArray(view);
      return json ? asJson(info) : renderArrayText(info);
    }
    case 'segment': {
      const report = await describeSegment(view, parseSegmentArg(view, sel.segment));
      return json ? asJson(report) : renderSegmentText(report);
    }
    case 'track': {
      const v = resolveVolume(view, sel.volume);
      const { track, byteOffset } = resolveTrack(view, v, sel);
      const report = await locateTrack(view, v, track, byteOffset);
      return json ? asJson(report) : renderTrackText(report);
    }
    case 'svg': {
      const info = describeArray(view);
      writeTextFile(sel.file, renderSvg(info));
      const summary = { svg: sel.file, segments: info.segments.length, openSegments: info.openSegments };
      return json ? asJson(summary) : `wrote ${sel.file}: ${summary.segments} segments${info.openSegments.length ? `, open ${info.openSegments.map((s) => `#${s}`).join(', ')}` : ''}\n`;
    }
  }
}
