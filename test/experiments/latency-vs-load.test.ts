// latency-vs-load: a request/response server (network in, O_DIRECT NVMe read, network out) under
// open-loop Poisson load. Latency rises non-linearly as the offered load nears the server's
// capacity, and the no-coalescing curve stays between the M/D/1 and M/M/1 queues' (the service is
// mostly the device's near-constant read time); NIC interrupt coalescing adds about its rx-usecs at
// low load; DVFS (schedutil, powersave) makes low-load requests slower than the performance
// governor, and powersave lowers the capacity itself. Each point is the shipped scenario with the
// client's --rate and --requests changed: the fewest requests that give a stable mean.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { runScript } from '../../probes/script.js';
import { bootExperiment, EXPERIMENTS_DIR } from '../helpers/experiment.js';
import { scriptOptions } from '../helpers/script.js';

interface Point {
  readonly meanUs: number;
  readonly p99Us: number;
  readonly servedPerS: number;
  /** What the client printed. */
  readonly output: string;
}

type Json = Record<string, unknown>;

/** The shipped scenario `file` with the client at `rate` for `requests`, run until they are answered. */
function point(file: string, rate: number, requests: number): Point {
  const sc = JSON.parse(readFileSync(join(EXPERIMENTS_DIR, file), 'utf8')) as Json;
  const events = sc.events as Json[];
  const client = events.find((e) => String(e.run).startsWith('rr-client'))!;
  client.run = String(client.run).replace(/--rate \d+/, `--rate ${rate}`).replace(/--requests \d+/, `--requests ${requests}`);
  // long enough for the arrivals and a backlog served at >= 5000 requests/s
  sc.duration = `${Math.ceil((requests / Math.min(rate, 5000)) * 1300) + 20}ms`;
  const r = parseScenario(sc, file);
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const m = prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs });
  m.run(r.scenario.durationNs);
  const out = m.report(r.scenario.name, 1).events!.find((e) => e.command.includes('rr-client'))!;
  assert.equal(String(out.status), '0', out.output);
  const lat = /latency mean ([\d.]+) us, p50 [\d.]+ us, p99 ([\d.]+) us/.exec(out.output);
  const rateMatch = /: (\d+) requests\/s/.exec(out.output);
  assert.ok(lat && rateMatch, out.output);
  assert.match(out.output, new RegExp(`rr-client: ${requests} requests to 10\\.0\\.0\\.1:8000 at ${rate}/s`));
  return { meanUs: Number(lat[1]), p99Us: Number(lat[2]), servedPerS: Number(rateMatch[1]), output: out.output };
}

const BASE = 'latency-vs-load.json';
const OFFERED = 40_000; // far past capacity: what is served is the capacity

/** Each point is run once for the file (runs are deterministic). */
const points = new Map<string, Point>();
function at(file: string, rate: number, requests: number): Point {
  const key = `${file} ${rate} ${requests}`;
  let p = points.get(key);
  if (p === undefined) {
    p = point(file, rate, requests);
    points.set(key, p);
  }
  return p;
}
// the baseline at 10 %, 70 % and 90 % of its capacity (about 14,060 requests/s); near saturation
// the mean needs more requests to settle
const low = (file = BASE) => at(file, 1400, 300);
const mid = (file = BASE) => at(file, 9850, 2000);
const high = () => at(BASE, 12650, 3000);
const capacity = (file = BASE) => at(file, OFFERED, 1000).servedPerS;

test('latency rises non-linearly with the offered load: flat at first, then steeply near capacity', () => {
  const [l10, l70, l90] = [low(), mid(), high()];
  // measured: mean 115.5 / 204.2 / 498.7 us, p99 185.3 / 651.3 / 2375.7 us
  assert.ok(l90.meanUs > 3.5 * l10.meanUs, `mean ${l10.meanUs} us at 10 %, ${l90.meanUs} us at 90 %`);
  assert.ok(l90.p99Us > 8 * l10.p99Us, `p99 ${l10.p99Us} us at 10 %, ${l90.p99Us} us at 90 %`);
  // per unit of load, the last 20 % costs far more than the first 60 %
  const slopeLow = (l70.meanUs - l10.meanUs) / 0.6;
  const slopeHigh = (l90.meanUs - l70.meanUs) / 0.2;
  assert.ok(slopeHigh > 4 * slopeLow, `${slopeLow.toFixed(0)} us per unit of load below 70 %, ${slopeHigh.toFixed(0)} above`);
});

test('without coalescing the server queue grows as a single-server queue does: between M/D/1 and M/M/1 (S/(1-rho))', () => {
  const mu = capacity();
  const serviceUs = 1e6 / mu; // measured: 14,060 requests/s, S = 71.1 us
  assert.ok(mu > 12_000 && mu < 16_000, `capacity ${mu} requests/s`);
  // what is not the server (wires, both stacks, the client) is what remains at 10 %
  const outsideUs = low().meanUs - serviceUs;
  for (const [rate, p] of [[9850, mid()], [12650, high()]] as const) {
    const rho = rate / mu;
    const sojournUs = p.meanUs - outsideUs;
    const mm1 = serviceUs / (1 - rho);
    const md1 = serviceUs * (1 + rho / (2 * (1 - rho)));
    // measured: rho 0.70: 160 us (M/D/1 154, M/M/1 238); rho 0.90: 454 us (390, 709)
    assert.ok(sojournUs > 0.95 * md1 && sojournUs < mm1, `rho ${rho.toFixed(2)}: ${sojournUs.toFixed(0)} us in the server, M/D/1 ${md1.toFixed(0)}, M/M/1 ${mm1.toFixed(0)}`);
  }
});

test('NIC interrupt coalescing (rx-usecs 50) makes a low-load request about 50 us later', () => {
  const sc = JSON.parse(readFileSync(join(EXPERIMENTS_DIR, 'latency-vs-load-nic-coalescing.json'), 'utf8')) as { machine: { nics: { coalescing: { rx_usecs: number } }[] } };
  const rxUsecs = sc.machine.nics[0]!.coalescing.rx_usecs;
  assert.equal(rxUsecs, 50);
  // measured: 162.0 vs 115.5 us
  const addedUs = low('latency-vs-load-nic-coalescing.json').meanUs - low().meanUs;
  assert.ok(addedUs > 0.8 * rxUsecs && addedUs < 1.05 * rxUsecs, `coalescing added ${addedUs.toFixed(1)} us`);
});

test('NVMe interrupt coalescing (100 us) adds its whole aggregation time to each one-at-a-time read: capacity falls to 1/(S + 100 us)', () => {
  const serviceUs = 1e6 / capacity();
  const coalesced = capacity('latency-vs-load-nvme-coalescing.json'); // measured: 5855 requests/s
  const expected = 1e6 / (serviceUs + 100);
  assert.ok(Math.abs(coalesced - expected) < 0.03 * expected, `${coalesced} requests/s, 1/(S + 100 us) = ${expected.toFixed(0)}`);
});

test('DVFS: schedutil and powersave slow a low-load request; at 70 % schedutil runs near f_max, powersave lowers the capacity itself', () => {
  const perf = low().meanUs;
  // measured: 115.5 us (performance), 157.8 (schedutil), 159.8 (powersave)
  for (const file of ['latency-vs-load-schedutil.json', 'latency-vs-load-powersave.json']) {
    const m = low(file).meanUs;
    assert.ok(m > 1.25 * perf && m < 2 * perf, `${file}: ${m} us at 10 % against ${perf} us`);
  }
  // measured: 212.1 vs 204.2 us
  const su70 = mid('latency-vs-load-schedutil.json').meanUs;
  assert.ok(su70 < 1.1 * mid().meanUs, `schedutil at 70 %: ${su70} us against ${mid().meanUs}`);
  // measured: 9394 against 14,060 requests/s
  const ratio = capacity('latency-vs-load-powersave.json') / capacity();
  assert.ok(ratio > 0.55 && ratio < 0.75, `powersave serves ${(ratio * 100).toFixed(0)} % of the performance governor's capacity`);
});

test('same seed, same bytes: a point run twice prints the same summary', () => {
  assert.deepEqual(point(BASE, 1400, 50), point(BASE, 1400, 50));
});

test('bad rr-server and rr-client command lines are refused at load with the reason and the usage', () => {
  const msg = (run: string) => {
    const r = parseScenario({ name: 'rr', duration: '1s', machine: { cpus: 1, memory: '256m' }, events: [{ at: '0', run }] }, 'rr.json');
    return r.ok ? 'ok' : r.diagnostics.map((d) => d.message).join('\n');
  };
  assert.equal(msg('rr-server 8000'), 'rr-server needs --file PATH (usage: rr-server PORT --file PATH [--bs SIZE] [--request SIZE])');
  assert.equal(msg('rr-server 8000 --file /dev/nvme0n1 --bs 1000'), 'rr-server --bs must be a multiple of 512 for O_DIRECT (got 1000) (usage: rr-server PORT --file PATH [--bs SIZE] [--request SIZE])');
  assert.equal(
    msg('rr-client 10.0.0.1:8000 --rate 0'),
    'rr-client --rate must be requests per second like 5000 (got "0") (usage: rr-client ADDR:PORT [--rate REQ/S] [--requests N] [--connections N] [--request SIZE] [--response SIZE])',
  );
  assert.match(msg('rr-client 10.0.0.1:8000 --requests 2000000'), /^rr-client --requests must be a request count up to 1000000 \(got "2000000"\)/);
});

test('latency-vs-load.bt: the server\'s time per request, the pread\'s share and the NIC interrupts per request, which coalescing halves', () => {
  const bt = (file: string): string => {
    const { m, durationNs } = bootExperiment(file);
    let out = '';
    const text = readFileSync(join(EXPERIMENTS_DIR, 'latency-vs-load.bt'), 'utf8');
    const r = runScript(m, scriptOptions(text, durationNs, (t, stream) => void (stream === 'stdout' ? (out += t) : undefined), { quiet: true, sourceName: 'latency-vs-load.bt' }));
    assert.equal(r.exitCode, 0);
    return out;
  };
  const off = bt('latency-vs-load.json');
  assert.match(off, /^2000 requests served, 4\.85 NIC interrupts per request$/m);
  // the server's mean time per request (TCP receive to response send) at 70 %: 167 us, the pread 68 us
  assert.match(off, /^@server_avg_ns: 1[5-8]\d{4}$/m);
  assert.match(off, /^@pread_avg_ns: 6\d{4}$/m);
  const nic = bt('latency-vs-load-nic-coalescing.json');
  assert.match(nic, /^2000 requests served, 2\.53 NIC interrupts per request$/m);
});
