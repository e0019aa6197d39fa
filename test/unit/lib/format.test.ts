import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  errorDetail,
  errorMessage,
  formatAgo,
  formatDuration,
  formatMs,
  formatPercent,
  formatTable,
  formatTime,
  paint,
} from '../../../src/lib/format.js';

describe('text helpers', () => {
  it('formats latency with one decimal below 100 ms, whole above, "-" when unknown', () => {
    expect([formatMs(8.46), formatMs(99.94), formatMs(123.6), formatMs(null), formatMs(NaN)]).toEqual([
      '8.5 ms',
      '99.9 ms',
      '124 ms',
      '-',
      '-',
    ]);
  });

  it('formats ratios as whole percentages', () => {
    expect([0, 0.001, 0.3, 1, null].map(formatPercent)).toEqual(['0%', '<1%', '30%', '100%', '-']);
  });

  it('formats compact durations and relative times', () => {
    expect([0, 45_000, 192_000, 7_500_000, 3 * 86_400_000 + 4 * 3_600_000].map(formatDuration)).toEqual([
      '0s',
      '45s',
      '3m12s',
      '2h05m',
      '3d04h',
    ]);
    const now = Date.parse('2026-01-01T00:10:00Z');
    expect(formatAgo('2026-01-01T00:06:48Z', now)).toBe('3m12s ago');
    expect(formatAgo('2026-01-01T00:11:00Z', now)).toBe('in 1m00s');
    expect([formatAgo(null, now), formatAgo('not a time', now)]).toEqual(['-', '-']);
    expect(formatTime('2026-01-02T03:04:05.678Z')).toBe('2026-01-02 03:04:05Z');
  });

  it('aligns table columns on the visible width, colour only when asked', () => {
    const rows = [[{ text: 'xyz', style: 'red' as const }, '1']];
    expect(formatTable(['A', 'B'], rows)).toBe('A    B\nxyz  1');
    const coloured = formatTable(['A', 'B'], rows, true);
    expect(coloured).toContain('\x1b[31mxyz');
    expect(stripVTControlCharacters(coloured)).toBe('A    B\nxyz  1');
    expect(paint('x', 'bold', false)).toBe('x');
  });

  it('describes errors: the message for operators, the stack for bug reports', () => {
    const err = new Error('boom');
    expect(errorMessage(err)).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorDetail(err)).toMatch(/^Error: boom\n\s+at /);
    expect(errorDetail(42)).toBe('42');
  });
});
