// kiotrace top as a process without a terminal (stdout a pipe): a failure inside the simulation's
// worker is one line on stderr and exit 1, never a stack; SIGTERM and SIGINT end it as q does
// (an attached program's maps printed); a second signal while it stops exits at once; names
// from a scenario file reach the output escaped. Every wait is for a condition.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../../helpers/repo.js';

const CLI = join(repoRoot(), 'dist', 'tui', 'cli.js');
const INJECT = pathToFileURL(join(repoRoot(), 'dist', 'test', 'tui', 'top', 'preload', 'inject-failure.js')).href;

/** A kiotrace process with its output collected as it comes. */
class Cli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[], opts: { inject?: 'simbug' | 'hang'; hangMark?: string } = {}) {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '' };
    delete env['KIOTRACE_TEST_INJECT'];
    if (opts.inject) env['KIOTRACE_TEST_INJECT'] = opts.inject;
    if (opts.hangMark) env['KIOTRACE_TEST_HANG_MARK'] = opts.hangMark;
    this.child = spawn(process.execPath, [...(opts.inject ? ['--import', INJECT] : []), CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Waits until `ok` holds of the output so far; the bound only stops a broken test from hanging. */
  async until(ok: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nstdout:\n${this.stdout.slice(-2000)}\nstderr:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Ends the process whatever happened (a failed assertion must not leave it running). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

const FAILED = /^kiotrace top: the simulation failed at [\d.]+ [nµm]?s of simulated time: kiotrace internal error \(SimBug\): injected by the test\n$/;

test('a SimBug inside the worker: one line on stderr, exit 1, no stack trace anywhere', async () => {
  const cli = new Cli(['top', 'default', '--duration', '600s'], { inject: 'simbug' });
  try {
    const { code } = await cli.exited;
    assert.equal(code, 1);
    assert.match(cli.stderr, FAILED);
    assert.doesNotMatch(cli.stdout, /\n\s+at |SimBug/);
    assert.match(cli.stdout, /^kiotrace top {2}default {2}seed 1 /, 'the panels as far as they got');
  } finally {
    cli.kill();
  }
});

test('-e PROGRAM --tui: a failure in the worker is one line and exit 1 too', async () => {
  const cli = new Cli(['-e', 'kprobe:vfs_read { @reads[comm] = count(); }', '--tui', '--duration', '600s'], { inject: 'simbug' });
  try {
    const { code } = await cli.exited;
    assert.equal(code, 1);
    assert.match(cli.stderr, FAILED);
    assert.doesNotMatch(cli.stdout, /\n\s+at |SimBug/);
  } finally {
    cli.kill();
  }
});

test('SIGTERM and SIGINT end it as q does: the program\'s maps printed, exit 0', async () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const cli = new Cli(['-e', 'kprobe:vfs_read { @reads[comm] = count(); }', '--tui', '--duration', '600s']);
    try {
      await cli.until(() => cli.stdout.includes('Program maps'), 'the first panels');
      cli.child.kill(signal);
      const { code, signal: killedBy } = await cli.exited;
      assert.deepEqual([code, killedBy], [0, null], signal);
      assert.match(cli.stdout, /\n\n@reads\[rand-direct\]: \d+\n@reads\[seq-reader\]: \d+\n$/, signal);
      assert.equal(cli.stderr, '', signal);
    } finally {
      cli.kill();
    }
  }
});

test('-e PROGRAM --tui with only BEGIN and END probes, or exit() in BEGIN: the output and exit code of a run without --tui', async () => {
  for (const program of ['BEGIN { printf("hi\\n"); } END { printf("bye\\n"); }', 'BEGIN { @x = 1; exit(3); } kprobe:vfs_read { @r = count(); }', 'END { printf("e\\n"); }']) {
    const plain = new Cli(['-e', program, '-q']);
    const live = new Cli(['-e', program, '--tui', '--duration', '600s']);
    try {
      // (it used to run the whole scenario and then wait for ever for the program's end)
      await live.until(() => live.child.exitCode !== null, 'the end of the run');
      const [p, l] = [await plain.exited, await live.exited];
      assert.deepEqual([l.code, live.stdout, live.stderr], [p.code, plain.stdout, plain.stderr], program);
    } finally {
      plain.kill();
      live.kill();
    }
  }
});

test('a second Ctrl-C while the simulation does not stop exits at once (128 + SIGINT)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-top-hang-'));
  const hangMark = join(dir, 'hung');
  const cli = new Cli(['-e', 'kprobe:vfs_read { @reads[comm] = count(); }', '--tui', '--duration', '600s'], { inject: 'hang', hangMark });
  try {
    await cli.until(() => existsSync(hangMark), 'the worker to hang');
    cli.child.kill('SIGINT');
    // the worker never answers: after a while the user is told what a second Ctrl-C does
    await cli.until(() => cli.stderr.includes('Ctrl-C again'), 'the hint');
    assert.equal(cli.stderr, 'kiotrace top: waiting for the simulation to stop (Ctrl-C again quits at once)\n');
    cli.child.kill('SIGINT');
    const { code } = await cli.exited;
    assert.equal(code, 130);
  } finally {
    cli.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('escape sequences in scenario and job names are printed escaped, never raw', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-top-names-'));
  try {
    const file = join(dir, 'evil.json');
    const scenario = {
      name: 'evil\u001b[2J\u001b]0;pwned\u0007',
      duration: '20ms',
      jobs: [{ name: 'j\u001b[1m\u202e', filename: '/mnt/nvme/a.dat', rw: 'read', bs: '4k', size: '1m', ioengine: 'psync' }],
    };
    writeFileSync(file, JSON.stringify(scenario));
    const cli = new Cli(['top', file, '--speed', 'max']);
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.stderr);
    // nothing that a terminal would act on: no ESC, BEL or bidi override
    assert.doesNotMatch(cli.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    assert.match(cli.stdout, /^kiotrace top {2}evil\\x1b\[2J\\x1b\]0;pwned\\x07 {2}seed 1 /);
    assert.match(cli.stdout, /\n {2}j\\x1b\[1m\\u202e +4 {2}X exit /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
