import { it } from 'vitest';
import { FAULTY_RECEIVERS } from '../fixtures/faulty-receivers.js';
import { startSuite } from '../support/suite-fixture.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/commands/io.js';

async function runAgainst(fixture: string, only?: string[]) {
  const suite = await startSuite({ start: (opts) => FAULTY_RECEIVERS[fixture]!.start(opts) });
  try {
    const io = memoryIO();
    const t = performance.now();
    await runSuite(suite.config, { format: 'json', reporters: [], reporterDir: '.', insecure: false, only }, io, 'test');
    const r = JSON.parse(io.stdout);
    return { ms: Math.round(performance.now() - t), deliveries: r.deliveries.length, cases: r.cases.length };
  } finally {
    await suite.close();
  }
}
it('profile', async () => {
  await startSuite().then((s) => s.close());
  for (const [f, only] of [['json-ack', undefined], ['json-ack', ['v2.pay.success']], ['json-ack', undefined], ['json-ack', ['v2.pay.success']], ['redirects', undefined], ['v3-wrong-aad', ['v3.pay.success']]] as const) {
    console.log(f, only, JSON.stringify(await runAgainst(f, only as any)));
  }
}, 600_000);
