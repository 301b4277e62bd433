// printable(): names from scenario and job files reach the terminal escaped, never raw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printable } from '../../tui/units.js';

test('printable: control characters, bidi overrides and lone surrogates come out escaped', () => {
  const cases: ReadonlyArray<[string, string]> = [
    ['seq-reader', 'seq-reader'],
    ['café 読み', 'café 読み'],
    ['\u001b[31mred\u001b[0m', '\\x1b[31mred\\x1b[0m'],
    ['a\rb\nc\td\u0007', 'a\\x0db\\x0ac\\x09d\\x07'],
    ['\u007f\u009b', '\\x7f\\x9b'],
    ['evil\u202etxt.exe', 'evil\\u202etxt.exe'],
    ['\ud83d\ude00 ok', '\ud83d\ude00 ok'],
    ['lone \ud83d end', 'lone \\ud83d end'],
    ['lone \ude00 end', 'lone \\ude00 end'],
  ];
  for (const [input, expected] of cases) assert.equal(printable(input), expected, JSON.stringify(input));
});
