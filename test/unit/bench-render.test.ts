import { describe, expect, it } from 'vitest';
import { escapeCell, infoRow, metFrom, renderBench, type BenchReport } from '../../tools/bench/render-bench.js';
import { parseCpuSeconds, parseMaxRssKb } from '../../tools/bench/child.js';
import { parseArgs } from '../../tools/bench/run-bench.js';
import { startupRow } from '../../tools/bench/measure-startup.js';
import { formatBytes, formatMs, formatRatio, median } from '../../tools/bench/stats.js';

const report: BenchReport = {
  title: 'wxpay-notify bench',
  machine: [
    ['CPU', 'Example CPU'],
    ['Node', 'v20.0.0'],
  ],
  sections: [
    {
      title: '1. Signing',
      rows: [
        { metric: 'scripted ÷ plain', value: '1.20×', target: '≤ 1.5×', met: 'yes' },
        { metric: 'a | b', value: 'line\nbreak', target: '—', met: 'no' },
      ],
      notes: ['how it was measured'],
    },
    { title: '2. Info', rows: [infoRow('size', '4 KB')], notes: [] },
  ],
};

describe('renderBench', () => {
  const text = renderBench(report);
  const lines = text.split('\n');

  it('prints the machine at the top, then one markdown table', () => {
    expect(lines[0]).toBe('# wxpay-notify bench');
    expect(text.indexOf('**CPU**: Example CPU')).toBeLessThan(text.indexOf('| metric | value | target | met |'));
    expect(lines).toContain('|---|---|---|---|');
  });

  it('gives every row four cells, with a heading row per section', () => {
    const rows = lines.filter((l) => l.startsWith('| '));
    expect(rows).toEqual([
      '| metric | value | target | met |',
      '| **1. Signing** | | | |',
      '| scripted ÷ plain | 1.20× | ≤ 1.5× | yes |',
      '| a \\| b | line break | — | no |',
      '| **2. Info** | | | |',
      '| size | 4 KB | — | — |',
    ]);
  });

  it('counts only rows with a target, and lists the notes of sections that have some', () => {
    expect(text).toContain('Targets met: 1 of 2.');
    expect(text).toContain('**1. Signing**\n\n- how it was measured');
    expect(text).not.toContain('**2. Info**\n');
    expect(text.endsWith('\n')).toBe(true);
  });
});

describe('bench helpers', () => {
  it('escapes table cells and derives met', () => {
    expect(escapeCell('x|y\\z\r\nw')).toBe('x\\|y\\\\z w');
    expect([metFrom(true), metFrom(false), metFrom(undefined)]).toEqual(['yes', 'no', '—']);
  });

  it('formats numbers for the table', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
    expect([formatMs(0.05), formatMs(1.234), formatMs(25.25), formatMs(1500)]).toEqual([
      '50.0 µs',
      '1.23 ms',
      '25.3 ms',
      '1.50 s',
    ]);
    expect([formatRatio(1.234), formatRatio(14.2), formatRatio(Number.NaN)]).toEqual(['1.23×', '14×', 'n/a']);
    expect([formatBytes(512), formatBytes(20 * 1024), formatBytes(3 * 1024 * 1024)]).toEqual([
      '512 B',
      '20.0 KB',
      '3.0 MB',
    ]);
  });

  it('reads the peak RSS from /usr/bin/time -v', () => {
    expect(
      parseMaxRssKb('\tMaximum resident set size (kbytes): 321524\n\tAverage resident set size (kbytes): 0\n'),
    ).toBe(321524);
    expect(parseMaxRssKb('nothing here')).toBeUndefined();
  });

  it('reads the CPU seconds (user + system, every thread) from /usr/bin/time -v', () => {
    expect(
      parseCpuSeconds(
        '\tUser time (seconds): 21.95\n\tSystem time (seconds): 1.04\n\tPercent of CPU this job got: 93%\n',
      ),
    ).toBeCloseTo(22.99, 5);
    expect(parseCpuSeconds('\tUser time (seconds): 21.95\n')).toBeUndefined();
  });

  it('runs one section with --only N, and says how when N is not a section', () => {
    expect(parseArgs(['--quick', '--only', '8'])).toEqual({ quick: true, only: 8 });
    expect(parseArgs([])).toEqual({ quick: false });
    expect(() => parseArgs(['--only', '9'])).toThrow('--only takes a section number from 1 to 8');
    expect(() => parseArgs(['--only'])).toThrow('--only takes a section number');
    expect(() => parseArgs(['--fast'])).toThrow('unknown argument(s): --fast; usage: npm run bench');
  });

  it('judges CLI start-up against bare Node: within 4× and under 80 MB', () => {
    const bare = [
      { wallMs: 100, rssKb: 40_000 },
      { wallMs: 60, rssKb: 40_000 },
      { wallMs: 80, rssKb: 40_000 },
    ];
    const quick = startupRow(
      '`--help`',
      [
        { wallMs: 200, rssKb: 60 * 1024 },
        { wallMs: 240, rssKb: 60 * 1024 },
        { wallMs: 900, rssKb: 60 * 1024 },
      ],
      bare,
    );
    expect(quick).toMatchObject({ value: '3.00× (240.0 ms vs 80.0 ms); 60 MB', met: 'yes' });
    expect(startupRow('x', [{ wallMs: 400, rssKb: 60 * 1024 }], bare).met).toBe('no');
    expect(startupRow('x', [{ wallMs: 200, rssKb: 127 * 1024 }], bare).met).toBe('no');
    expect(startupRow('x', [{ wallMs: 200 }], bare)).toMatchObject({
      met: '—',
      value: expect.stringContaining('RSS n/a'),
    });
  });
});
