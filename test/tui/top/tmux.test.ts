// End to end, as a person would: the real CLI in tmux at 120x40. Start `kiotrace top`, wait for
// the dashboard, press keys and read the screen back. Skipped, saying why, only without tmux.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/repo.js';

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const session = `kiotrace-e2e-${process.pid}`;

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const screen = (): string => tmux('capture-pane', '-p', '-t', session);

/** Polls the screen until `ok` holds (or gives up after `timeoutMs` with the last screen). */
async function waitFor(ok: (s: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = screen();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; screen:\n${last}`);
}

const alive = (): boolean => spawnSync('tmux', ['has-session', '-t', session]).status === 0;

test('kiotrace top in tmux: dashboard, pause, select, panel, help, inspector, export, quit', { skip: hasTmux ? false : 'tmux is not installed (apt-get install tmux); the end-to-end UI test needs it' }, async () => {
  const cli = join(repoRoot(), 'dist', 'tui', 'cli.js');
  // exports land in the working directory: a temporary one
  const cwd = mkdtempSync(join(tmpdir(), 'kiotrace-tmux-'));
  // CI=true makes Ink hold every frame until exit: the UI under test runs without it
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-c', cwd, `env -u CI ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} top default --duration 600s`);
  try {
    const first = await waitFor((s) => s.includes('● running') && s.includes('seq-reader'), 'the dashboard');
    const lines = first.split('\n');
    assert.match(lines[0]!, /^kiotrace top {2}default {2}seed 1 {2}sim .* \/ 600 s {2}speed 1x {2}.* events\/s {2}● running/);
    assert.equal(lines[1], '▶ Devices');
    assert.match(first, /\n> nvme0n1 {3}none /);
    // the frame stays below the terminal's height (a full-height Ink frame clears the screen each time)
    const footer = lines.findIndex((l) => l.startsWith('q quit'));
    assert.ok(footer > 0 && footer <= 38, `footer on row ${footer}`);

    // resizing reflows the frame: narrower lines, fewer rows, the footer still on screen
    tmux('resize-window', '-t', session, '-x', '90', '-y', '30');
    // (tmux rewraps the old frame at first; the new one starts at the top with the header)
    await waitFor((s) => {
      const rows = s.split('\n');
      const foot = rows.findIndex((l) => l.startsWith('q quit'));
      return rows[0]!.startsWith('kiotrace top ') && rows[1] === '▶ Devices' && foot > 0 && foot <= 28 && rows.every((l) => l.length <= 90);
    }, 'the frame reflowed to 90x30');
    tmux('resize-window', '-t', session, '-x', '120', '-y', '40');
    await waitFor((s) => s.includes('seq-reader'), 'the full frame again');

    tmux('send-keys', '-t', session, 'Space');
    await waitFor((s) => s.split('\n')[0]!.includes('PAUSED'), 'the PAUSED badge');
    // one last snapshot may still show where the machine stopped; after that, nothing moves
    let previous = screen().split('\n')[0];
    let still = 0;
    for (let i = 0; i < 40 && still < 3; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const now = screen().split('\n')[0];
      still = now === previous ? still + 1 : 0;
      previous = now;
    }
    assert.equal(still, 3, 'paused: simulated time stands still');

    tmux('send-keys', '-t', session, 'Down');
    await waitFor((s) => /\n> sda {7}mq-deadline/.test(s), 'sda selected');
    tmux('send-keys', '-t', session, 'Tab', 'Tab');
    await waitFor((s) => s.includes('\n▶ CPUs') && /\n> 0 {4}/.test(s), 'the CPUs panel focused');

    tmux('send-keys', '-t', session, '?');
    const help = await waitFor((s) => s.includes('\nKeys\n'), 'the help');
    assert.match(help, /\n {2}q {11}quit\n/);
    tmux('send-keys', '-t', session, 'Escape');
    await waitFor((s) => s.includes('\n▶ CPUs'), 'the dashboard again');

    tmux('send-keys', '-t', session, 'Space', '+');
    await waitFor((s) => /speed 2x .*● running/.test(s.split('\n')[0]!), 'running again at 2x');

    // the I/O inspector: the list fills, Enter opens a waterfall, e exports it, Esc goes back
    // top probes: every site counted while the panel is open
    tmux('send-keys', '-t', session, '5');
    const probes = await waitFor((s) => /\n[> ] 1 {3}\S+ +[\d.]+[kM]? +[\d.]+[kM]? +\d+%/.test(s), 'probe hit rates');
    assert.match(probes, /\n▶ Top probes/);
    assert.match(probes, /tracepoint:raw_syscalls:sys_enter/);

    tmux('send-keys', '-t', session, '6');
    await waitFor((s) => /\n {2}\d+ +pread64 +rand-direct +nvme0n1 /.test(s), 'recent I/Os in the inspector');
    tmux('send-keys', '-t', session, '/', 'r', 'a', 'n', 'd', 'Enter', 'Down', 'Enter');
    const fall = await waitFor((s) => /\nI\/O \d+ {2}pread64 by rand-direct \(pid 5\) on nvme0n1/.test(s), 'a waterfall');
    assert.match(fall, /\n {2}LAYER +START +DURATION +WAIT +DETAIL/);
    assert.match(fall, /\n +driver +\+[\d.]+ [nµ]s +[\d.]+ µs/);
    const ioId = /\nI\/O (\d+) /.exec(fall)![1]!;
    tmux('send-keys', '-t', session, 'e');
    await waitFor((s) => s.includes(`kiotrace-io-${ioId}.pftrace (`), 'the export message');
    rmSync(join(cwd, `kiotrace-io-${ioId}.pftrace`));
    tmux('send-keys', '-t', session, 'Escape');
    await waitFor((s) => s.includes('▶ I/O inspector') && s.includes('filter: rand'), 'the filtered list again');

    tmux('send-keys', '-t', session, 'q');
    const deadline = Date.now() + 10_000;
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(), false, 'q quits and the session ends');
  } finally {
    if (alive()) tmux('kill-session', '-t', session);
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('kiotrace top with NO_COLOR: no colour codes on the screen, the selection still marked', { skip: hasTmux ? false : 'tmux is not installed (apt-get install tmux); the end-to-end UI test needs it' }, async () => {
  const cli = join(repoRoot(), 'dist', 'tui', 'cli.js');
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', `env -u CI NO_COLOR=1 ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} top default --duration 600s`);
  try {
    await waitFor((s) => s.includes('● running') && s.includes('seq-reader'), 'the dashboard');
    const withEscapes = tmux('capture-pane', '-p', '-e', '-t', session);
    assert.doesNotMatch(withEscapes, /\u001b\[(?:3[0-7]|4[0-7]|1|2|7)m/, 'no colour, bold, dim or inverse');
    assert.match(withEscapes, /\n> nvme0n1 /);
    tmux('send-keys', '-t', session, 'q');
    const deadline = Date.now() + 10_000;
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(), false);
  } finally {
    if (alive()) tmux('kill-session', '-t', session);
  }
});

test('kiotrace -e PROGRAM --tui in tmux: the maps live under the dashboard and on panel 7, printed again at exit', { skip: hasTmux ? false : 'tmux is not installed (apt-get install tmux); the end-to-end UI test needs it' }, async () => {
  const cli = join(repoRoot(), 'dist', 'tui', 'cli.js');
  const program = 'kprobe:vfs_read { @reads[comm] = count(); } tracepoint:block:block_rq_issue { @bytes = hist(args.bytes); }';
  // the pane outlives the program for a moment, so the maps it prints at exit can be read
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', `env -u CI ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} -e '${program}' --tui --duration 600s; sleep 10`);
  try {
    // maps in bpftrace's order (by name): @bytes first, as much as fits under the dashboard
    const dash = await waitFor((s) => s.includes('Program maps') && /\n {2}@bytes:\n {2}\[0\] +\d+ \|/.test(s), 'the maps under the dashboard');
    assert.match(dash, /\n {2}Tasks\n/);
    tmux('send-keys', '-t', session, '7');
    const maps = await waitFor((s) => s.includes('\n▶ Program maps') && /@reads\[seq-reader\]: \d+/.test(s), 'panel 7 with every map');
    assert.match(maps, /\n {2}\[4K, 8K\) +\d+ \|@+ *\|/);
    tmux('send-keys', '-t', session, 'q');
    const after = await waitFor((s) => !s.includes('▶ Program maps') && /@reads\[seq-reader\]: \d+/.test(s), 'the maps printed at exit');
    assert.match(after, /\n@bytes:\n/);
  } finally {
    if (alive()) tmux('kill-session', '-t', session);
  }
});
