// The link to the simulation's worker: once closed (q), nothing of it is left to keep the process
// alive: no worker, no timer. (A forgotten 5 s timer used to hold every quit for 5 s.)
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { WorkerLink } from '../../../tui/top/run-top.js';
import type { Snapshot } from '../../../tui/top/snapshot.js';
import { repoRoot } from '../../helpers/repo.js';

test('WorkerLink.close: the worker ends and no timer is left behind', async () => {
  const failures: string[] = [];
  for (const script of [undefined, { text: 'kprobe:vfs_read { @reads = count(); }', sourceName: 'stdin', positional: [] }]) {
    const link = new WorkerLink(
      { scenario: 'default', scenariosDir: join(repoRoot(), 'traces', 'scenarios'), seed: 1, durationNs: undefined, speed: 1, sampleIntervalMs: 100, ...(script ? { script } : {}) },
      { onFailure: (message) => failures.push(message) },
    );
    const first = await new Promise<Snapshot>((resolve) => link.onSnapshot(resolve));
    assert.equal(first.scenario, 'default');
    assert.ok(process.getActiveResourcesInfo().includes('MessagePort'), 'the worker is there');
    const end = await link.close();
    // the program's maps, as at exit
    assert.match(end.stdout, script ? /^\n*@reads: \d+\n$/ : /^$/);
    assert.deepEqual([end.stderr, end.exitCode], ['', 0]);
    const left = process.getActiveResourcesInfo();
    assert.deepEqual(
      left.filter((r) => r === 'MessagePort' || r === 'Timeout'),
      [],
      `nothing of the link keeps the process alive: ${left.join(', ')}`,
    );
  }
  assert.deepEqual(failures, []);
});
