// The key reducer as a table: key, state before -> state after and the command it sends.
import test from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TYPED_CHARS, reduceKey, stepSpeed, type KeyName } from '../../../tui/top/keys.js';
import type { IoRecord } from '../../../tui/top/inspector.js';
import type { SimCommand } from '../../../tui/top/keys.js';
import { INITIAL_UI, type UiState } from '../../../tui/top/view-model.js';

test('keys: a table of key, state and result', () => {
  const at = (over: Partial<UiState>): UiState => ({ ...INITIAL_UI, ...over });
  const c = (char: string): KeyName => ({ char });
  const rows: [KeyName, UiState, number, UiState, SimCommand | undefined][] = [
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
    ['tab', at({ focus: 'tasks' }), 1, at({ focus: 'probes' }), { kind: 'probes', on: true }],
    ['tab', at({ focus: 'ios' }), 1, at({ focus: 'devices' }), { kind: 'inspect', on: false }],
    [c('6'), at({}), 1, at({ focus: 'ios' }), { kind: 'inspect', on: true }],
    [c('6'), at({ focus: 'ios' }), 1, at({ focus: 'ios' }), undefined],
    [c('5'), at({ focus: 'devices' }), 1, at({ focus: 'probes' }), { kind: 'probes', on: true }],
    [c('3'), at({ selected: 1 }), 1, at({ focus: 'cpus' }), undefined],
    [c('9'), at({}), 1, at({}), undefined],
    [c('8'), at({}), 1, at({}), undefined],
    [c('s'), at({ focus: 'tasks' }), 1, at({ focus: 'tasks', sortByIops: true }), undefined],
    [c('s'), at({ focus: 'cpus' }), 1, at({ focus: 'cpus' }), undefined],
    [c('7'), at({}), 1, at({ focus: 'maps' }), undefined],
    ['down', at({}), 2, at({ selected: 1 }), undefined],
    ['down', at({ selected: 1 }), 2, at({ selected: 1 }), undefined],
    [c('j'), at({}), 4, at({ selected: 1 }), undefined],
    ['up', at({}), 4, at({}), undefined],
    [c('k'), at({ selected: 3 }), 4, at({ selected: 2 }), undefined],
  ];
  for (const [key, before, n, after, command] of rows) {
    // the speed column doubles as the row count for the selection rows
    const r = reduceKey(before, key, { speed: n, rows: n, ios: [] });
    assert.deepEqual(r.ui, after, JSON.stringify(key));
    assert.deepEqual(r.commands, command ? [command] : [], JSON.stringify(key));
  }
});

test('keys: the I/O inspector list, filter, sort, waterfall and export', () => {
  const io = (ioId: number, durationNs: number): IoRecord => ({ ioId, origin: 'pread64', task: 't', pid: 5, device: 'nvme0n1', startNs: 0, durationNs, error: false, layers: [], faultChain: undefined });
  const ios = [io(9, 10), io(7, 30), io(4, 20)];
  const ctx = { speed: 1, rows: 3, ios };
  let ui: UiState = { ...INITIAL_UI, focus: 'ios' };
  const press = (...keys: KeyName[]): SimCommand[] => {
    const out: SimCommand[] = [];
    for (const k of keys) {
      const r = reduceKey(ui, k, ctx);
      ui = r.ui;
      out.push(...r.commands);
    }
    return out;
  };
  press('down');
  assert.equal(ui.selectedIoId, 9, 'the first row when nothing was selected');
  press('down', 'down', 'down');
  assert.equal(ui.selectedIoId, 4, 'stops at the last row');
  press({ char: 'k' });
  assert.equal(ui.selectedIoId, 7);
  press('enter');
  assert.equal(ui.openIo?.ioId, 7);
  // e asks where: a prompt with a name in the working directory, edited in place
  assert.deepEqual(press({ char: 'e' }), []);
  assert.equal(ui.exportPath, 'kiotrace-io-7.pftrace');
  assert.deepEqual(press({ char: 'q' }, 'backspace', 'backspace', { char: 'x' }), [], 'q is text in the prompt');
  assert.equal(ui.exportPath, 'kiotrace-io-7.pftracx');
  assert.deepEqual(press('enter'), [{ kind: 'export', io: ios[1], path: 'kiotrace-io-7.pftracx' }]);
  assert.equal(ui.exportPath, undefined);
  press({ char: 'e' }, 'escape');
  assert.deepEqual([ui.exportPath, ui.openIo?.ioId], [undefined, 7], 'esc cancels the prompt, the waterfall stays');
  press({ char: 's' });
  assert.equal(ui.sortByLatency, false, 's does nothing inside the waterfall');
  press('escape');
  assert.equal(ui.openIo, undefined);
  press({ char: 's' });
  assert.equal(ui.sortByLatency, true);
  press({ char: '/' }, { char: 'n' }, { char: 'v' }, { char: 'x' }, 'backspace', { char: 'm' });
  assert.deepEqual([ui.filtering, ui.filter], [true, 'nvm']);
  assert.deepEqual(press({ char: 'q' }), [], 'q is text while typing a filter');
  assert.equal(ui.filter, 'nvmq');
  press('enter');
  assert.deepEqual([ui.filtering, ui.filter], [false, 'nvmq']);
  press('escape');
  assert.equal(ui.filter, '');
  assert.deepEqual(press('tab'), [{ kind: 'inspect', on: false }]);
  assert.equal(ui.focus, 'devices');
});

test('keys: tab visits the maps panel only when a program is attached', () => {
  const base = { speed: 1, rows: 0, ios: [] };
  assert.equal(reduceKey({ ...INITIAL_UI, focus: 'ios' }, 'tab', base).ui.focus, 'devices');
  const r = reduceKey({ ...INITIAL_UI, focus: 'ios' }, 'tab', { ...base, hasScript: true });
  assert.deepEqual([r.ui.focus, r.commands], ['maps', [{ kind: 'inspect', on: false }]]);
});

test('keys: from the probes panel straight to the inspector: counting off, recording on', () => {
  const r = reduceKey({ ...INITIAL_UI, focus: 'probes' }, 'tab', { speed: 1, rows: 0, ios: [] });
  assert.deepEqual([r.ui.focus, r.commands], ['ios', [{ kind: 'inspect', on: true }, { kind: 'probes', on: false }]]);
});

test('keys: Enter on a device or task drills into its I/Os', () => {
  const ctx = { speed: 1, rows: 2, ios: [], drill: ['nvme0n1', 'sda'] };
  const r = reduceKey({ ...INITIAL_UI, selected: 1 }, 'enter', ctx);
  assert.deepEqual([r.ui.focus, r.ui.filter, r.commands], ['ios', 'sda', [{ kind: 'inspect', on: true }]]);
  assert.deepEqual(reduceKey({ ...INITIAL_UI, focus: 'cpus' }, 'enter', { ...ctx, drill: [] }).ui.focus, 'cpus');
});

test('keys: Ctrl-C quits from anywhere; speed steps', () => {
  // Ctrl-C quits from anywhere: while a filter or an export path is typed too
  for (const ui of [INITIAL_UI, { ...INITIAL_UI, filtering: true }, { ...INITIAL_UI, exportPath: 'x' }]) {
    assert.deepEqual(reduceKey(ui, 'interrupt', { speed: 1, rows: 0, ios: [] }).commands, [{ kind: 'quit' }]);
  }
  assert.deepEqual([1, 10, 100, 0].map((s) => stepSpeed(s, true)), [2, 100, 0, 0]);
});

test('keys: a paste is typed into a filter or a path and is never a command; typed text is bounded', () => {
  const ctx = { speed: 1, rows: 0, ios: [] };
  const paste: KeyName = { paste: 'q ?+' };
  assert.deepEqual(reduceKey(INITIAL_UI, paste, ctx), { ui: INITIAL_UI, commands: [] }, 'no quit, pause, help or speed');
  assert.equal(reduceKey({ ...INITIAL_UI, focus: 'ios', filtering: true, filter: 'a' }, paste, ctx).ui.filter, 'aq ?+');
  assert.equal(reduceKey({ ...INITIAL_UI, exportPath: 'x' }, paste, ctx).ui.exportPath, 'xq ?+');
  const full = { ...INITIAL_UI, focus: 'ios' as const, filtering: true, filter: 'é'.repeat(MAX_TYPED_CHARS - 1) };
  assert.equal(reduceKey(full, { paste: '😀😀😀' }, ctx).ui.filter, 'é'.repeat(MAX_TYPED_CHARS - 1) + '😀');
  assert.equal(reduceKey({ ...full, filter: 'é'.repeat(MAX_TYPED_CHARS) }, { char: 'x' }, ctx).ui.filter.length, MAX_TYPED_CHARS);
  // backspace takes a whole character, never half of a surrogate pair
  assert.equal(reduceKey({ ...full, filter: 'a😀' }, 'backspace', ctx).ui.filter, 'a');
  assert.equal(reduceKey({ ...INITIAL_UI, exportPath: 'b😀' }, 'backspace', ctx).ui.exportPath, 'b');
});
