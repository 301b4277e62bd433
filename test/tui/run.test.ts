// `kiotrace run` end to end through the real CLI: exit codes, the summary and the JSON report.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/repo.js';

const cli = join(repoRoot(), 'dist', 'tui', 'cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: repoRoot() });

test('kiotrace run blocking-read --json reports one 4 KiB read with its latency', () => {
  const r = run('run', 'blocking-read', '--json');
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as {
    scenario: string;
    seed: number;
    jobs: { name: string; read: { ios: number; bytes: number; clat: { p50Ns: number; p99Ns: number; p999Ns: number } } }[];
    counters: { pageCacheMisses: number; contextSwitches: number; irqs: number; syscalls: number };
  };
  assert.equal(report.scenario, 'blocking-read');
  assert.equal(report.seed, 1);
  assert.equal(report.jobs.length, 1);
  const job = report.jobs[0]!;
  assert.equal(job.name, 'cold-read');
  assert.equal(job.read.ios, 1);
  assert.equal(job.read.bytes, 4096);
  // a cold NVMe read: tens of microseconds, not nanoseconds (cache) or milliseconds (disk)
  assert.ok(job.read.clat.p50Ns > 40_000 && job.read.clat.p50Ns < 200_000, `latency ${job.read.clat.p50Ns} ns`);
  assert.equal(report.counters.pageCacheMisses, 1);
  assert.equal(report.counters.irqs, 1);
});

test('kiotrace run default prints a fio-like summary per job and kernel counters; same seed, same bytes', () => {
  const a = run('run', 'default', '--duration', '100ms', '--seed', '3');
  assert.equal(a.status, 0, a.stderr);
  for (const job of ['seq-reader', 'rand-direct', 'mmap-reader', 'fsync-writer']) assert.match(a.stdout, new RegExp(`^${job}: \\(groupid=0, jobs=1\\): err= 0`, 'm'));
  assert.match(a.stdout, /read: IOPS=[\d.]+k?, BW=/);
  assert.match(a.stdout, /clat percentiles \((n|u|m)sec\): p50=[\d.]+k?, p99=[\d.]+k?, p99\.9=[\d.]+k?/);
  assert.match(a.stdout, /page cache: +hits=\d+, misses=\d+/);
  assert.match(a.stdout, /page faults: +minor=\d+, major=\d+/);
  assert.match(a.stdout, /scheduler: +context switches=\d+/);
  assert.match(a.stdout, /interrupts: +irqs=\d+/);
  assert.match(a.stdout, /merges: +bio back=\d+, bio front=\d+, request=\d+/);
  const b = run('run', 'default', '--duration', '100ms', '--seed', '3');
  assert.equal(b.stdout, a.stdout);
  const c = run('run', 'default', '--duration', '100ms', '--seed', '4');
  assert.notEqual(c.stdout, a.stdout);
});
