// The Ink components rendered to strings (ink-testing-library): the screen paints exactly the
// view-model's lines, and the app turns keys (one at a time or in a burst) into UI state and
// commands for the simulation.
import test from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { lineText, Screen, TopApp, type SimLink } from '../../../tui/top/app.js';
import type { IoRecord } from '../../../tui/top/inspector.js';
import type { SimCommand } from '../../../tui/top/keys.js';
import type { Snapshot } from '../../../tui/top/snapshot.js';
import { buildView, INITIAL_UI, plainText } from '../../../tui/top/view-model.js';
import { snapshotsAt } from '../../helpers/top.js';

const history = snapshotsAt('default', [100_000_000, 200_000_000]);

test('Screen paints the view-model line for line (no colour)', () => {
  const view = buildView(history, INITIAL_UI, 100, 30);
  const { lastFrame, unmount } = render(<Screen view={view} color={false} />);
  // Ink drops trailing blanks; an empty line is still a row
  assert.deepEqual(
    lastFrame()!.split('\n').map((l) => l.trimEnd()),
    view.lines.map(plainText),
  );
  unmount();
});

test('lineText: one string per line, SGR colours per tone, none without colour', () => {
  const line = [{ text: 'p99 ' }, { text: '26 ms', tone: 'bad' as const }, { text: ' ok', tone: 'good' as const }];
  assert.equal(lineText(line, true), 'p99 \u001b[31m26 ms\u001b[0m\u001b[32m ok\u001b[0m');
  assert.equal(lineText([{ text: 'a', tone: 'bad' }, { text: 'b', tone: 'bad' }, { text: '  ', tone: 'good' }, { text: 'c' }], true), '\u001b[31mab\u001b[0m  c');
  assert.equal(lineText(line, false), 'p99 26 ms ok');
  assert.equal(lineText([], true), ' ');
  assert.equal(lineText([{ text: 'x  ' }, { text: '   ', tone: 'good' }], true), 'x', 'trailing blanks are dropped');
});

/** A link that hands out snapshots on demand and records the commands it gets. */
class FakeLink implements SimLink {
  readonly commands: SimCommand[] = [];
  private snapshotListener: ((s: Snapshot) => void) | undefined;
  private statusListener: ((paused: boolean, speed: number) => void) | undefined;

  onSnapshot(l: (s: Snapshot) => void): () => void {
    this.snapshotListener = l;
    return () => (this.snapshotListener = undefined);
  }

  onStatus(l: (paused: boolean, speed: number) => void): () => void {
    this.statusListener = l;
    return () => (this.statusListener = undefined);
  }

  exportIo(io: IoRecord): string {
    return `exported ${io.ioId}`;
  }

  send(c: SimCommand): void {
    this.commands.push(c);
    if (c.kind === 'pause') this.statusListener?.(true, history.at(-1)!.speed);
  }

  push(s: Snapshot): void {
    this.snapshotListener?.(s);
  }
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

test('TopApp: snapshots arrive, keys move the focus and selection, commands go to the simulation', async () => {
  const link = new FakeLink();
  const app = render(<TopApp link={link} color={false} />);
  await tick();
  assert.equal(app.lastFrame(), 'kiotrace top: starting the simulation…');
  for (const s of history) link.push(s);
  await tick();
  assert.match(app.lastFrame()!, /^kiotrace top  default  seed 1  sim 200 ms \/ 2\.00 s  speed 1x  2\.3M events\/s  ● running\n▶ Devices/);
  assert.match(app.lastFrame()!, /\n> nvme0n1 /);
  // a burst: down, then tab twice to the CPUs panel, then down twice, as one string where it can be
  app.stdin.write('j');
  await tick();
  assert.match(app.lastFrame()!, /\n> sda /);
  app.stdin.write('\t');
  await tick();
  app.stdin.write('\t');
  await tick();
  app.stdin.write('jj');
  await tick();
  assert.match(app.lastFrame()!, /\n▶ CPUs/);
  assert.match(app.lastFrame()!, /\n> 2 {4}/);
  app.stdin.write('++-');
  await tick();
  assert.deepEqual(link.commands, [
    { kind: 'speed', speed: 2 },
    { kind: 'speed', speed: 5 },
    { kind: 'speed', speed: 2 },
  ]);
  app.stdin.write(' ');
  await tick();
  assert.match(app.lastFrame()!.split('\n')[0]!, / {2}PAUSED$/);
  app.stdin.write('?');
  await tick();
  assert.equal(app.lastFrame()!.split('\n')[1], 'Keys');
  app.stdin.write('\u001b');
  await tick();
  assert.match(app.lastFrame()!, /\n▶ CPUs/);
  app.stdin.write('q');
  await tick();
  assert.deepEqual(link.commands.at(-1), { kind: 'quit' });
  app.unmount();
});
