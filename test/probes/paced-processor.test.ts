// PacedBatchProcessor: a slow endpoint slows the producer down and gets everything, with never
// more than its few exports in flight; a failing one makes nobody wait, and every span it does
// not get is counted as dropped, failed or abandoned.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';
import { PacedBatchProcessor } from '../../probes/tracing.js';

/** An exporter that answers each export after `delayMs` with `code`, and records what it saw. */
class FakeExporter implements SpanExporter {
  delivered = 0;
  failed = 0;
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly delayMs: number,
    private readonly code: ExportResultCode,
  ) {}

  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    setTimeout(() => {
      this.inFlight--;
      if (this.code === ExportResultCode.SUCCESS) this.delivered += spans.length;
      else this.failed += spans.length;
      done(this.code === ExportResultCode.SUCCESS ? { code: this.code } : { code: this.code, error: new Error('down') });
    }, this.delayMs);
  }

  async shutdown(): Promise<void> {}
}

const span = {} as ReadableSpan;

/** Ends `total` spans in rounds of `perRound`, waiting on backpressure between rounds like the run loop. */
async function produce(p: PacedBatchProcessor, total: number, perRound: number): Promise<number> {
  let waitedRounds = 0;
  for (let made = 0; made < total; ) {
    for (let i = 0; i < perRound && made < total; i++, made++) p.onEnd(span);
    const t0 = Date.now();
    await p.backpressure();
    if (Date.now() - t0 >= 5) waitedRounds++;
  }
  return waitedRounds;
}

test('a slow endpoint: the producer waits, at most maxInFlight exports at once, nothing lost', async () => {
  const exporter = new FakeExporter(20, ExportResultCode.SUCCESS);
  const p = new PacedBatchProcessor(exporter, 100, 1000, 2);
  const waited = await produce(p, 5000, 250);
  await p.shutdown();
  assert.equal(exporter.delivered, 5000);
  assert.equal(p.dropped, 0);
  assert.equal(p.abandoned, 0);
  assert.equal(exporter.maxInFlight, 2);
  assert.ok(waited > 0, 'the producer was held back');
});

test('a failing endpoint: nobody waits, one probe at a time, every lost span counted', async () => {
  const exporter = new FakeExporter(20, ExportResultCode.FAILED);
  const p = new PacedBatchProcessor(exporter, 100, 1000, 4);
  await produce(p, 5000, 250);
  await p.shutdown();
  assert.equal(exporter.delivered, 0);
  assert.equal(exporter.failed + p.dropped + p.abandoned, 5000);
  assert.ok(p.dropped > 0 && p.abandoned > 0, JSON.stringify({ dropped: p.dropped, abandoned: p.abandoned }));
  // only the first exports ran together (before the first failure was known); the end does not
  // push the queue through a failing endpoint one probe at a time: it is abandoned
  assert.equal(exporter.maxInFlight, 4);
});
