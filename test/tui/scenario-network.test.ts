// machine.nics, "hosts" and "network": parsed into NIC, host and link specs with a realistic
// 10 GbE default; booted as hosts on one clock and switch; every mistake located.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenarioText, renderDiagnostic, type ScenarioResult } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { ipv4 } from '../../core/net/netdevice.js';

function scenario(rest: string, nics = '[{"name": "eth0", "address": "10.0.0.1/24"}]'): string {
  return `{"name": "n", "duration": "10ms", "machine": {"cpus": 2, "nics": ${nics}, "devices": [{"name": "nvme0n1", "type": "nvme"}]}, "jobs": [{"name": "r", "filename": "/dev/nvme0n1", "size": "1m"}]${rest}}`;
}

function errors(result: ScenarioResult): string {
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n');
}

test('nics, hosts and network parse; the run boots the remote host on the same clock, each with its eth0', () => {
  const r = parseScenarioText(
    scenario(
      ', "hosts": [{"name": "server", "address": "10.0.0.2", "cpus": 4, "memory": "1g"}], "network": {"bandwidth": "1g", "latency": "50us"}',
      '[{"name": "eth0", "address": "10.0.0.1/24", "queues": 2, "max_frags": 8, "mtu": 9000, "tso": false, "gro": false, "tx_ring": 256, "coalescing": {"rx_usecs": 50, "rx_frames": 32, "adaptive_rx": "on"}}]',
    ),
    'n.json',
  );
  assert.ok(r.ok, r.ok ? '' : r.diagnostics.map(renderDiagnostic).join('\n'));
  assert.deepEqual(r.scenario.machine.nics, [{ name: 'eth0', addr: ipv4('10.0.0.1'), prefixLen: 24, queues: 2, maxFrags: 8, mtu: 9000, tso: false, gro: false, txRingSize: 256, coalesce: { rxUsecs: 50, rxFrames: 32, adaptiveRx: true } }]);
  assert.deepEqual(r.scenario.network, { bitsPerSec: 1e9, propagationNs: 50_000 });
  assert.equal(r.scenario.hosts?.length, 1);
  assert.deepEqual(r.scenario.hosts?.[0]?.machine.nics, [{ name: 'eth0', addr: ipv4('10.0.0.2'), prefixLen: 24 }]);
  const m = prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs });
  assert.equal(m.hosts.length, 1);
  assert.equal(m.hosts[0]!.env, m.env, 'one clock');
  assert.equal(m.nics[0]!.dev.name, 'eth0');
  assert.equal(m.nics[0]!.dev.maxFrags, 8);
  assert.equal(m.nics[0]!.dev.mtu, 9000, 'ip link set mtu 9000: jumbo frames');
  assert.equal(m.hosts[0]!.nics[0]!.dev.mtu, 1500, 'ETH_DATA_LEN by default');
  assert.equal(m.nics[0]!.nic.config.link.bitsPerSec, 1e9);
  assert.equal(m.nics[0]!.nic.coalesce.rxUsecs, 50);
  assert.equal(m.hosts[0]!.k.sched.cpus.length, 4);
  assert.equal(m.hosts[0]!.nics[0]!.nic.config.coalesce.rxUsecs, 8, 'defaults: mlx5e static profile');
  assert.notEqual(m.hosts[0]!.k.registry, m.k.registry, 'scripts attach to the main machine only');
  m.env.run(r.scenario.durationNs);
});

test('a machine without nics has no NIC and boots as before; defaults are a 10 GbE NIC, 1 us away', () => {
  const r = parseScenarioText(scenario(', "hosts": [{"name": "peer", "address": "10.0.0.9"}]'), 'n.json');
  assert.ok(r.ok);
  const m = prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs });
  assert.equal(m.network?.link.bitsPerSec, 10e9);
  assert.equal(m.network?.link.propagationNs, 1000);
  assert.equal(m.nics[0]!.nic.config.maxFrags, 17);
  assert.equal(m.nics[0]!.nic.config.queues, 2, 'one queue pair per CPU');
  const plain = parseScenarioText('{"name": "p", "duration": "10ms", "machine": {"devices": [{"name": "nvme0n1", "type": "nvme"}]}, "jobs": [{"name": "r", "filename": "/dev/nvme0n1", "size": "1m"}]}', 'p.json');
  assert.ok(plain.ok);
  assert.equal(plain.scenario.machine.nics, undefined);
  const pm = prepareRun(plain.scenario, { seed: 1, durationNs: plain.scenario.durationNs });
  assert.equal(pm.network, undefined);
  assert.deepEqual(pm.k.net.devices.map((d) => d.name), ['lo'], 'only the loopback device');
});

test('network mistakes: located, with what to write instead', () => {
  const bad = errors(
    parseScenarioText(
      scenario(
        ', "hosts": [{"name": "s", "address": "10.0.0.1"}, {"name": "s", "nics": [{"name": "lo", "address": "300.1.1.1"}]}], "network": {"bandwidth": "3g", "latency": "-1us"}',
        '[{"name": "eth0", "address": "10.0.0.1", "max_frags": 18, "mtu": 67, "speed": "10G", "coalescing": {"rx_usec": 5}}]',
      ),
      'n.json',
    ),
  );
  assert.match(bad, /n\.json:1:\d+: machine\.nics\[0\]\.max_frags: must be an integer from 1 to 17 \(got 18\)/);
  assert.match(bad, /machine\.nics\[0\]\.mtu: must be an integer from 68 to 9978 \(got 67\)/);
  assert.match(bad, /machine\.nics\[0\]\.coalescing\.rx_usec: unknown key; did you mean "rx_usecs"\?/);
  assert.match(bad, /hosts\[1\]\.name: duplicate host name "s"/);
  assert.match(bad, /hosts\[1\]\.nics\[0\]\.name: "lo" is the loopback device/);
  assert.match(bad, /hosts\[1\]\.nics\[0\]\.address: must be an IPv4 address like "10\.0\.0\.2"/);
  assert.match(bad, /network\.bandwidth: must be an Ethernet speed: one of .*"10g".* \(got "3g"\)/);
  assert.match(bad, /network\.latency: must be a duration like "5us"/);
  assert.match(bad, /hosts\[0\]: address 10\.0\.0\.1 is already machine\.nics \(eth0\)'s/);
  const noNic = errors(parseScenarioText(`{"name": "n", "duration": "10ms", "machine": {"devices": [{"name": "nvme0n1", "type": "nvme"}]}, "jobs": [{"name": "r", "filename": "/dev/nvme0n1", "size": "1m"}], "hosts": [{"name": "s", "address": "10.0.0.2"}]}`, 'n.json'));
  assert.match(noNic, /machine\.nics: hosts are on a network the machine is not on: give it a NIC/);
  const noAddr = errors(parseScenarioText(scenario(', "hosts": [{"name": "s"}]', '[{"name": "eth0"}]'), 'n.json'));
  assert.match(noAddr, /machine\.nics\[0\]\.address: required but missing/);
  assert.match(noAddr, /hosts\[0\]\.address: required but missing \(e\.g\. "address": "10\.0\.0\.2"\)/);
  const typo = errors(parseScenarioText(scenario(', "host": []'), 'n.json'));
  assert.match(typo, /host: unknown key; did you mean "hosts"\?/);
});
