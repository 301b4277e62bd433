// The key reducer as a table: key, state before -> state after and the command it sends.
import test from 'node:test';
import assert from 'node:assert/strict';
import { keysOf, reduceKey, stepSpeed, type KeyName } from '../../../tui/top/keys.js';
import { INITIAL_UI, type UiState } from '../../../tui/top/view-model.js';

test('keys: a table of key, state and result', () => {
  const at = (over: Partial<UiState>): UiState => ({ ...INITIAL_UI, ...over });
  const c = (char: string): KeyName => ({ char });
  const rows: [KeyName, UiState, number, UiState, ReturnType<typeof reduceKey>['command']][] = [
    [c('q'), at({}), 1, at({}), { kind: 'quit' }],
    [c(' '), at({}), 1, at({}), { kind: 'pause' }],
    [c('+'), at({}), 1, at({}), { kind: 'speed', speed: 2 }],
    [c('='), at({}), 100, at({}), { kind: 'speed', speed: 0 }],
    [c('+'), at({}), 0, at({}), { kind: 'speed', speed: 0 }],
    [c('-'), at({}), 0, at({}), { kind: 'speed', speed: 100 }],
    [c('-'), at({}), 0.001, at({}), { kind: 'speed', speed: 0.001 }],
    [c('?'), at({}), 1, at({ help: true }), undefined],
    [c('?'), at({ help: true }), 1, at({}), undefined],
    ['escape', at({ help: true }), 1, at({}), undefined],
    ['tab', at({ selected: 1 }), 1, at({ focus: 'cache' }), undefined],
    ['tab', at({ focus: 'tasks' }), 1, at({ focus: 'devices' }), undefined],
    [c('3'), at({ selected: 1 }), 1, at({ focus: 'cpus' }), undefined],
    [c('9'), at({}), 1, at({}), undefined],
    ['down', at({}), 2, at({ selected: 1 }), undefined],
    ['down', at({ selected: 1 }), 2, at({ selected: 1 }), undefined],
    [c('j'), at({}), 4, at({ selected: 1 }), undefined],
    ['up', at({}), 4, at({}), undefined],
    [c('k'), at({ selected: 3 }), 4, at({ selected: 2 }), undefined],
  ];
  for (const [key, before, n, after, command] of rows) {
    // the speed column doubles as the row count for the selection rows
    const r = reduceKey(before, key, n, n);
    assert.deepEqual(r.ui, after, JSON.stringify(key));
    assert.deepEqual(r.command, command, JSON.stringify(key));
  }
});

test('keys: bursts are split into single keys; arrows and ctrl-c are named', () => {
  assert.deepEqual(keysOf('/bl', {}), [{ char: '/' }, { char: 'b' }, { char: 'l' }]);
  assert.deepEqual(keysOf('\t\tj\r', {}), ['tab', 'tab', { char: 'j' }, 'enter']);
  assert.deepEqual(keysOf('', { downArrow: true }), ['down']);
  assert.deepEqual(keysOf('c', { ctrl: true }), [{ char: 'q' }]);
  assert.deepEqual([1, 10, 100, 0].map((s) => stepSpeed(s, true)), [2, 100, 0, 0]);
});
