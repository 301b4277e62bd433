// machine.mounts: NFS mounts in a scenario, nfs(5)'s options with Linux's defaults, located errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseScenarioText, renderDiagnostic } from '../../tui/scenario.js';
import { DEFAULT_NFS_MOUNT_OPTIONS } from '../../core/fs/nfs/super.js';

function messages(text: string): string[] {
  const r = parseScenarioText(text, 's.json');
  return r.ok ? [] : r.diagnostics.map((d) => renderDiagnostic(d).split('\n')[0]!);
}

const job = `"jobs": [{"name": "j", "filename": "/mnt/nvme/f", "size": "1m"}]`;
// the machine on a network with the host "server" exporting /export
const network = `"hosts": [{"name": "server", "address": "10.0.0.2", "devices": [{"name": "nvme0n1", "type": "nvme", "mount": "/export"}], "nfsd": {"export": "/export"}}]`;
const scenario = (mounts: string) => `{"name": "n", "duration": "1s", "machine": {"nics": [{"name": "eth0", "address": "10.0.0.1"}], "mounts": ${mounts}}, ${network}, ${job}}`;

test('machine.mounts: an NFS export at a target, with its options parsed as nfs(5) gives them', () => {
  const r = parseScenarioText(scenario('[{"type": "nfs", "source": "server:/export", "target": "/mnt/nfs", "options": "vers=3,proto=tcp,actimeo=0,nocto,rsize=65536"}]'), 's.json');
  assert.ok(r.ok);
  const m = r.scenario.machine.mounts![0]!;
  assert.equal(m.source, 'server:/export');
  assert.equal(m.target, '/mnt/nfs');
  assert.deepEqual(m.options, { ...DEFAULT_NFS_MOUNT_OPTIONS, acregmin: 0, acregmax: 0, acdirmin: 0, acdirmax: 0, nocto: true, rsize: 65536 });
  // no options: acregmin 3, acregmax 60, acdirmin 30, acdirmax 60, hard, timeo 600, retrans 2, 1 MiB
  const d = parseScenarioText(scenario('[{"source": "server:/export", "target": "/mnt/nfs"}]'), 's.json');
  assert.ok(d.ok);
  assert.deepEqual(d.scenario.machine.mounts![0]!.options, DEFAULT_NFS_MOUNT_OPTIONS);
  assert.deepEqual([DEFAULT_NFS_MOUNT_OPTIONS.acregmin, DEFAULT_NFS_MOUNT_OPTIONS.acregmax, DEFAULT_NFS_MOUNT_OPTIONS.acdirmin, DEFAULT_NFS_MOUNT_OPTIONS.acdirmax], [3, 60, 30, 60]);
});

test('machine.mounts: bad entries are located errors', () => {
  assert.deepEqual(
    messages(scenario('[{"type": "cifs", "source": "server", "target": "/mnt/nvme/x", "options": "vers=4"}, {"source": "s:/e", "target": "/mnt/n", "options": "actimeo=abc"}, {"target": "/mnt/m", "options": "bogus"}]')),
    [
      's.json:1:116: machine.mounts[0].type: must be "nfs", the one network filesystem kiotrace models (got "cifs")',
      's.json:1:134: machine.mounts[0].source: must be host:/path, the server and the directory it exports (got "server")',
      's.json:1:154: machine.mounts[0].target: "/mnt/nvme/x" nests with "/mnt/nvme" (mount of nvme0n1); mounts must not contain each other',
      's.json:1:180: machine.mounts[0].options: NFS version 4 is not modelled (only vers=3)',
      's.json:1:241: machine.mounts[1].options: NFS option actimeo needs an integer from 0 to 3600, got "abc"',
      's.json:1:257: machine.mounts[2].source: required but missing (e.g. "source": "server:/export")',
      's.json:1:289: machine.mounts[2].options: unknown NFS option bogus',
    ],
  );
});

test('machine.mounts: the source must name a host of the network that exports that path', () => {
  assert.deepEqual(messages(scenario('[{"source": "srv:/export", "target": "/mnt/a"}, {"source": "server:/other", "target": "/mnt/b"}]')), [
    's.json:1:118: machine.mounts[0].source: names "srv", which is no host of the scenario\'s "hosts" (server)',
    's.json:1:165: machine.mounts[1].source: "server" does not export "/other" (it exports "/export")',
  ]);
});

test('machine.nfsd: a machine serving an export of one of its filesystems, 8 threads by default', async () => {
  const r = parseScenarioText(`{"name": "n", "duration": "1s", "machine": {"nfsd": {"export": "/mnt/nvme/export"}}, ${job}}`, 's.json');
  assert.ok(r.ok);
  assert.deepEqual(r.scenario.machine.nfsd, { export: '/mnt/nvme/export', threads: 8 });
  assert.deepEqual(messages(`{"name": "n", "duration": "1s", "machine": {"devices": [{"name": "nvme0n1", "type": "nvme"}], "nfsd": {"export": "/srv/x", "threads": 0}}, "jobs": [{"name": "j", "filename": "/dev/nvme0n1", "size": "1m"}]}`), [
    's.json:1:114: machine.nfsd.export: "/srv/x" cannot be exported: no device of the machine has a filesystem (give one a "mount")',
    's.json:1:135: machine.nfsd.threads: must be an integer from 1 to 256 (got 0)',
  ]);
  // booted, the machine runs its nfsd threads
  const { bootMachine } = await import('../../core/index.js');
  const m = bootMachine(r.scenario.machine, 1);
  assert.equal(m.nfsd?.threads.length, 8);
  assert.equal(m.k.tasks.filter((t) => t.comm === 'nfsd').length, 8);
});
