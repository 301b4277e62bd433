// Terminal cells per text: what cuts a line of the view to the terminal's width.
import test from 'node:test';
import assert from 'node:assert/strict';
import { cellWidth, fitCells } from '../../../tui/top/cells.js';

test('cellWidth: a table of text and the cells it takes', () => {
  const rows: [string, number][] = [
    ['', 0],
    ['abc', 3],
    ['▶ µs → █░▁ …', 12],
    ['中文', 4],
    ['全角ＡＢＣ', 10],
    ['한글', 4],
    ['😀', 2],
    ['☺\ufe0f', 2],
    ['☺', 1],
    ['🇫🇷', 2],
    ['e\u0301', 1],
    ['\u200b', 0],
    ['עברית', 5],
  ];
  for (const [text, cells] of rows) assert.equal(cellWidth(text), cells, JSON.stringify(text));
});

test('fitCells: the longest start that fits, never half a wide character or a split grapheme', () => {
  assert.equal(fitCells('abcdef', 4), 'abcd');
  assert.equal(fitCells('中文字', 3), '中');
  assert.equal(fitCells('中文字', 4), '中文');
  assert.equal(fitCells('ae\u0301b', 2), 'ae\u0301');
  assert.equal(fitCells('😀x', 1), '');
  assert.equal(fitCells('abc', 0), '');
  assert.equal(fitCells('abc', -3), '');
});
