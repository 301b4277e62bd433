// fio's value syntax as parse.c reads it: sizes and kb_base, percentages, ranges, per-direction
// lists, bssplit, times in each option's own unit, booleans, expressions; and the values fio would
// silently misread, refused with what fio would have done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluateKeywordMath,
  parseBool,
  parseBsSplit,
  parseInteger,
  parsePercentileList,
  parseSize,
  parseSizeOrPercent,
  parseSizeRange,
  parseTime,
  splitDirections,
  type Parsed,
} from '../../../tui/fio/values.js';

function value<T>(r: Parsed<T>): T | string {
  return r.ok ? r.value : `error: ${r.error}`;
}

test('sizes: kb_base=1024 (the default) reads k/kb/K/KB as 1024; KiB is always 1024', () => {
  const cases: ReadonlyArray<[string, number | string]> = [
    ['4096', 4096],
    ['4k', 4096],
    ['4K', 4096],
    ['4kb', 4096],
    ['4KB', 4096],
    ['4kB', 4096],
    ['1m', 2 ** 20],
    ['1g', 2 ** 30],
    ['1t', 2 ** 40],
    ['1p', 2 ** 50],
    ['4b', 4],
    ['0x1000', 4096],
    // (fio would read these as powers of 1000 under kb_base=1024; kiotrace keeps KiB = 1024)
    ['4KiB', 4096],
    ['1mi', 2 ** 20],
    ['1000ki', 1_024_000],
    ['1ti', 2 ** 40],
    ['(4k*2)', 8192],
    ['(1m/4)', 262144],
    ['1.5m', 'error: "1.5m" has a fraction; fio reads only the whole part (1m), so write the size in a smaller unit, like 1536k for 1.5m'],
    ['4x', 'error: unknown size suffix "x" in "4x"; use k, m, g, t or p (with an optional b or ib)'],
    ['-4k', 'error: "-4k" is not a size; write a number with an optional suffix, like 4k, 64m or 1g'],
    ['9007199254740993', 'error: "9007199254740993" is too large (at most 9007199254740991)'],
    ['50%', 'error: a percentage is not allowed here (got "50%"); give a size like 4k'],
  ];
  for (const [text, expected] of cases) assert.equal(value(parseSize(text, 1024)), expected, text);
});

test('sizes: kb_base=1000 follows SI and IEC: k is 1000, ki is 1024', () => {
  const cases: ReadonlyArray<[string, number]> = [
    ['4k', 4000],
    ['4kb', 4000],
    ['4KiB', 4096],
    ['1m', 1_000_000],
    ['1mi', 2 ** 20],
    ['1ti', 2 ** 40],
    ['1t', 1e12],
  ];
  for (const [text, expected] of cases) assert.equal(value(parseSize(text, 1000)), expected, text);
});

test('percentages (size=50%, offset=25%) from 1 to 100', () => {
  assert.deepEqual(value(parseSizeOrPercent('50%', 1024)), { kind: 'percent', percent: 50 });
  assert.deepEqual(value(parseSizeOrPercent('100%', 1024)), { kind: 'percent', percent: 100 });
  assert.deepEqual(value(parseSizeOrPercent('64m', 1024)), { kind: 'bytes', bytes: 64 * 2 ** 20 });
  assert.equal(value(parseSizeOrPercent('0%', 1024)), 'error: a percentage must be from 1% to 100% (got "0%")');
  assert.equal(value(parseSizeOrPercent('101%', 1024)), 'error: a percentage must be from 1% to 100% (got "101%")');
});

test('ranges: low-high or low:high, swapped when reversed; one size is a range of one', () => {
  assert.deepEqual(value(parseSizeRange('4k-16k', 1024)), { minBytes: 4096, maxBytes: 16384 });
  assert.deepEqual(value(parseSizeRange('1k:4k', 1024)), { minBytes: 1024, maxBytes: 4096 });
  assert.deepEqual(value(parseSizeRange('16k-4k', 1024)), { minBytes: 4096, maxBytes: 16384 });
  assert.deepEqual(value(parseSizeRange('8k', 1024)), { minBytes: 8192, maxBytes: 8192 });
});

test('per-direction lists: one value for both, "a,b" read and write, empty keeps the default, trim dropped', () => {
  const cases: ReadonlyArray<[string, { read: string | undefined; write: string | undefined } | string]> = [
    ['256k', { read: '256k', write: '256k' }],
    ['8k,32k', { read: '8k', write: '32k' }],
    ['8k,32k,', { read: '8k', write: '32k' }],
    [',8k', { read: undefined, write: '8k' }],
    ['1m,', { read: '1m', write: undefined }],
    ['1,2,3,4', 'error: "1,2,3,4" has 4 comma-separated values; give at most 3 (read, write, trim)'],
  ];
  for (const [text, expected] of cases) assert.deepEqual(value(splitDirections(text)), expected, text);
});

test('bssplit: size/percent pairs; blank percentages share the rest; they must add up to 100', () => {
  assert.deepEqual(value(parseBsSplit('4k/10:64k/50:32k/40', 1024)), [
    { bytes: 4096, percent: 10 },
    { bytes: 65536, percent: 50 },
    { bytes: 32768, percent: 40 },
  ]);
  assert.deepEqual(value(parseBsSplit('4k/50:1k/:32k/', 1024)), [
    { bytes: 4096, percent: 50 },
    { bytes: 1024, percent: 25 },
    { bytes: 32768, percent: 25 },
  ]);
  assert.equal(value(parseBsSplit('4k/60:8k/60', 1024)), 'error: the percentages add up to 120; they must add up to 100');
  assert.equal(value(parseBsSplit('4k/10:8k/10', 1024)), 'error: the percentages add up to 20; they must add up to 100');
  assert.equal(value(parseBsSplit('4k/x', 1024)), 'error: percentage "x" in "4k/x" must be from 0 to 100');
});

test("times: a bare number in the option's own unit, fio's suffixes, and no misread suffixes", () => {
  const cases: ReadonlyArray<[string, 's' | 'us', number | string]> = [
    ['10', 's', 10e9],
    ['10', 'us', 10e3],
    ['10s', 'us', 10e9],
    ['500ms', 's', 500e6],
    ['500msec', 's', 500e6],
    ['20us', 's', 20e3],
    ['20usec', 's', 20e3],
    ['2m', 's', 120e9],
    ['1h', 's', 3600e9],
    ['1d', 's', 86400e9],
    ['10S', 's', 10e9],
    ['(1000+500)', 's', 1500e3],
    ['10sec', 's', 'error: unknown time suffix "sec" in "10sec"; fio knows us, ms, s, m, h and d (and would read this as 10 microseconds)'],
    ['10ns', 's', 'error: unknown time suffix "ns" in "10ns"; fio knows us, ms, s, m, h and d (and would read this as 10 microseconds)'],
    ['1.5s', 's', 'error: "1.5s" has a fraction; fio reads only the whole part, so use a smaller unit, like 1500ms for 1.5s'],
  ];
  for (const [text, unit, expected] of cases) assert.equal(value(parseTime(text, unit)), expected, `${text} (${unit})`);
});

test('booleans: 0/1 as fio, true/false as JSON scenarios write them', () => {
  assert.equal(value(parseBool('1')), true);
  assert.equal(value(parseBool('0')), false);
  assert.equal(value(parseBool('true')), true);
  assert.equal(value(parseBool('false')), false);
  assert.equal(value(parseBool('yes')), 'error: "yes" is not a boolean; write 1 or 0 (or true/false)');
  assert.equal(value(parseBool('2')), 'error: "2" is not a boolean; write 1 or 0 (or true/false)');
});

test('integers and expressions; percentile lists', () => {
  assert.equal(value(parseInteger('32')), 32);
  assert.equal(value(parseInteger('0x20')), 32);
  assert.equal(value(parseInteger('(4*8)')), 32);
  assert.equal(value(parseInteger('(2^5)')), 32);
  assert.equal(value(parseInteger('(7/2)')), 3);
  assert.equal(value(parseInteger('(1/0)')), 'error: cannot evaluate "(1/0)": division by zero');
  assert.equal(value(parseInteger(`${'('.repeat(40)}1${')'.repeat(40)}`)).toString().startsWith('error: cannot evaluate'), true);
  assert.equal(value(parseInteger('4k')), 'error: "4k" is not a whole number');
  assert.deepEqual(value(parsePercentileList('99:99.9:99.99')), [99, 99.9, 99.99]);
  assert.equal(value(parsePercentileList('99:0')), 'error: "0" is not a percentile from 0 (exclusive) to 100');
});

test("keyword math: after $mb_memory and friends, + - * / are computed as bc does (integers)", () => {
  assert.equal(value(evaluateKeywordMath('4096/2')), '2048');
  assert.equal(value(evaluateKeywordMath('8*4096')), '32768');
  assert.equal(value(evaluateKeywordMath('7/2')), '3');
  assert.equal(value(evaluateKeywordMath('4096')), '4096');
  assert.equal(value(evaluateKeywordMath('4096m/2')).toString().startsWith('error: cannot compute "4096m/2"'), true);
});
