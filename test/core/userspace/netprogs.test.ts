// The network programs as a scenario's events start them, over loopback: what they print, that a
// slow sink paces its client, that the proxy relays everything it logged, and that bad command
// lines are refused at load with the reason.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseScenario } from '../../../tui/scenario.js';
import { prepareRun } from '../../../tui/run.js';
import { formatReport } from '../../../tui/summary.js';

const MACHINE = { cpus: 2, memory: '256m', devices: [{ name: 'nvme0n1', type: 'nvme', capacity: '1g', mount: '/mnt/nvme' }] };

function runEvents(events: readonly object[], duration: string) {
  const r = parseScenario({ name: 'np', duration, machine: MACHINE, events }, 'np.json');
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const m = prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs });
  m.run(r.scenario.durationNs);
  return { m, report: m.report('np', 1) };
}

function outputs(report: ReturnType<typeof runEvents>['report']): string[] {
  return (report.events ?? []).map((e) => `${e.command} -> ${e.status}\n${e.output}`);
}

test('a client sends 1 MiB to a sink reading at 10 MiB/s: the sink takes ~100 ms, the client is done when the bytes fit in the buffers', () => {
  const { m, report } = runEvents(
    [
      { at: '0', run: 'sink 9000 --rate 10m' },
      { at: '1ms', run: 'client 127.0.0.1:9000 --size 1m --bs 64k' },
    ],
    '150ms',
  );
  const [sink, client] = outputs(report);
  assert.equal(sink, 'sink 9000 --rate 10m -> running\nsink: listening on 0.0.0.0:9000, reading at most 10485760 bytes/s\nsink: connection 5 closed after 1048576 bytes\n');
  assert.match(client!, /^client 127\.0\.0\.1:9000 --size 1m --bs 64k -> 0\nclient: sent 1048576 bytes to 127\.0\.0\.1:9000 in \d+\.\d{3} ms\n$/);
  // one copy on each side of the connection
  assert.equal(m.k.net.copies.userToSkbBytes, 1 << 20);
  assert.equal(m.k.net.copies.skbToUserBytes, 1 << 20);
  // the run report's network section says the same
  const text = formatReport(report);
  assert.ok(text.includes('Network:\n  copied:       user->socket=1024KiB, socket->user=1024KiB, page cache->socket=0B, linearized=0B, kernel page->page=0B\n  by reference: 0B (page-cache or user pages the NIC read in place; 0B queued so)\n  dropped:      tx=0, rx=0\n'), text);
  const sinkDone = report.events![0]!;
  assert.equal(sinkDone.doneNs, null, 'a server keeps running');
});

test('the proxy logs every byte it relays and forwards all of it from the log', () => {
  const { m, report } = runEvents(
    [
      { at: '0', run: 'sink 9000' },
      { at: '1ms', run: 'proxy --listen 8080 --upstream 127.0.0.1:9000 --log /mnt/nvme/proxy.log' },
      { at: '2ms', run: 'client 127.0.0.1:8080 --size 2m' },
    ],
    '100ms',
  );
  const out = outputs(report);
  // the proxy keeps its upstream connection open after its client leaves
  assert.equal(out[0], 'sink 9000 -> running\nsink: listening on 0.0.0.0:9000\n');
  assert.match(out[2]!, /client: sent 2097152 bytes to 127\.0\.0\.1:8080 in /);
  const log = m.k.vfs.lookup('/mnt/nvme/proxy.log');
  assert.ok(log !== undefined);
  assert.equal(log.sizeBytes, 2 << 20, 'every byte logged');
  // proxy: recv copy (1) + log write (1) + log pread for forwarding (1) + send (1), plus the
  // client's send and the sink's recv: 2 MiB through user<->socket copies four times
  assert.equal(m.k.net.copies.userToSkbBytes, 2 * (2 << 20));
  assert.equal(m.k.net.copies.skbToUserBytes, 2 * (2 << 20));
});

test('bad command lines are refused at load with the reason and the usage', () => {
  const msg = (run: string) => {
    const r = parseScenario({ name: 'np', duration: '1s', machine: MACHINE, events: [{ at: '0', run }] }, 'np.json');
    return r.ok ? 'ok' : r.diagnostics.map((d) => d.message).join('\n');
  };
  assert.equal(msg('sink 99999'), 'sink port must be 1-65535 (got "99999") (usage: sink PORT [--bs SIZE] [--rate BYTES/S])');
  assert.equal(msg('client 10.0.0.300:80'), 'client needs a server address like 10.0.0.2:9000 (got "10.0.0.300:80") (usage: client ADDR:PORT [--bs SIZE] [--rate BYTES/S] [--size BYTES])');
  assert.equal(msg('client 10.0.0.3:80 --rate fast'), 'client --rate must be bytes per second like 10m (got "fast") (usage: client ADDR:PORT [--bs SIZE] [--rate BYTES/S] [--size BYTES])');
  assert.equal(msg('proxy --listen 80 --log /x'), 'proxy needs --upstream (usage: proxy --listen PORT --upstream ADDR:PORT --log PATH [--bs SIZE])');
  assert.equal(msg('file-server 80 --file /x --mode splice'), 'file-server --mode must be rw or sendfile (got "splice") (usage: file-server PORT --file PATH [--mode rw|sendfile] [--bs SIZE] [--offset BYTES])');
  assert.equal(msg('fetch 127.0.0.1:80 --bogus 1'), 'fetch has no option --bogus (options: --bs) (usage: fetch ADDR:PORT [--bs SIZE])');
  assert.equal(msg('sink 9000 --bs 1g'), 'sink --bs must be a size like 64k (got "1g") (usage: sink PORT [--bs SIZE] [--rate BYTES/S])');
});

test('events run on remote hosts: a client on one host sends through the network to a sink on another', () => {
  const machine = { ...MACHINE, nics: [{ name: 'eth0', address: '10.0.0.1/24' }] };
  const hosts = [{ name: 'server', address: '10.0.0.2/24' }];
  const r = parseScenario(
    {
      name: 'np',
      duration: '50ms',
      machine,
      hosts,
      network: { bandwidth: '1g', latency: '50us' },
      events: [
        { at: '0', host: 'server', run: 'sink 9000' },
        { at: '1ms', run: 'client 10.0.0.2:9000 --size 1m' },
      ],
    },
    'np.json',
  );
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const m = prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs });
  m.run(r.scenario.durationNs);
  const out = outputs(m.report('np', 1));
  assert.equal(out[0], 'server: sink 9000 -> running\nsink: listening on 0.0.0.0:9000\nsink: connection 5 closed after 1048576 bytes\n');
  // the wire paces it: 1 MiB over 1 Gb/s needs at least 8.4 ms, so at 1 + 5 ms the sink has part of it
  const early = prepareRun(r.scenario, { seed: 1, durationNs: 6_000_000 });
  early.run(6_000_000);
  const got = early.hosts[0]!.k.net.copies.skbToUserBytes;
  assert.ok(got > 0 && got < (5_000_000 * 1e9) / 8 / 1e9, `at 6 ms the sink had ${got} bytes`);
  assert.equal(m.hosts[0]!.k.net.copies.skbToUserBytes, 1 << 20, 'the sink copied it out on its host');
  assert.equal(m.k.net.copies.userToSkbBytes, 1 << 20, 'the client copied it in on this machine');
});

test('an event on a host that does not exist is refused', () => {
  const r = parseScenario({ name: 'np', duration: '1s', machine: MACHINE, events: [{ at: '0', host: 'nowhere', run: 'sync' }] }, 'np.json');
  assert.ok(!r.ok);
  assert.equal(r.diagnostics.map((d) => d.message).join('\n'), 'must name one of the scenario\'s hosts (got "nowhere"; the scenario has no "hosts")');
});

test('file-server by sendfile(): the page-cache pages go to the socket by reference, no copy on the sending side', () => {
  const run = (mode: string) => {
    const r = parseScenario(
      {
        name: 'zc',
        duration: '200ms',
        machine: MACHINE,
        jobs: [{ name: 'warm', filename: '/mnt/nvme/f', rw: 'read', size: '1m', bs: '1m' }],
        events: [
          { at: '20ms', run: `file-server 80 --file /mnt/nvme/f --mode ${mode}` },
          { at: '21ms', run: 'fetch 127.0.0.1:80' },
        ],
      },
      'zc.json',
    );
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    const m = prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs });
    m.run(r.scenario.durationNs);
    const out = outputs(m.report('zc', 1));
    assert.match(out[1]!, /fetch: received 1048576 bytes/);
    return { ...m.k.net.copies };
  };
  const rw = run('rw');
  const sf = run('sendfile');
  // read()+write(): the file's bytes are copied into the socket; sendfile(): referenced
  assert.deepEqual([rw.userToSkbBytes, rw.zerocopyBytes, rw.skbToUserBytes], [1 << 20, 0, 1 << 20]);
  assert.deepEqual([sf.userToSkbBytes, sf.zerocopyBytes, sf.skbToUserBytes], [0, 1 << 20, 1 << 20]);
});
