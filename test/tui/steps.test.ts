// The tour's step recorder stops costing anything once the I/Os it shows are over.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadScenario } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { recordSteps } from '../../tui/steps.js';
import { repoRoot } from '../helpers/repo.js';

for (const [scenario, ios] of [['blocking-read', 1], ['page-fault', 1], ['default', 3]] as const) {
  test(`--steps on ${scenario}: the probes detach once ${ios} traced I/O(s) ended, before the run does`, () => {
    const loaded = loadScenario(scenario, join(repoRoot(), 'traces', 'scenarios'));
    assert.ok(loaded.ok);
    const durationNs = 50_000_000;
    const m = prepareRun(loaded.scenario, { seed: 1, durationNs });
    const steps = recordSteps(m, ios);
    const enabled = (): number => m.k.registry.all().filter((s) => s.enabled).length;
    assert.ok(enabled() > 0);
    let detachedAtNs = -1;
    while (m.env.nowNs < durationNs) {
      m.run(durationNs, 1000);
      if (detachedAtNs < 0 && enabled() === 0) detachedAtNs = m.env.nowNs;
    }
    assert.equal(enabled(), 0, 'nothing stays attached');
    // default keeps the machine busy to the end: there the probes went long before it
    if (scenario === 'default') assert.ok(detachedAtNs < durationNs / 2, `detached at ${detachedAtNs} ns`);
    assert.equal(steps.render().match(/^Steps of I\/O /gm)?.length, ios);
  });
}
