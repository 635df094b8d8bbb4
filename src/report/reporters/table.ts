import type { DeliveryResult } from '../../runner/types.js';
import { formatWechatOffset, renderTimeline } from '../../runner/retry-schedule.js';
import { summarizeCases } from '../../judge/case-verdicts.js';
import { renderTable } from '../render-table.js';
import { diagnoseRun } from '../../judge/diagnose-run.js';
import type { Reporter } from '../reporter.js';

function progressLine(d: DeliveryResult): string {
  const copy = d.copies > 1 ? ` #${d.copy}` : '';
  return `${d.verdict === 'pass' ? 'ok  ' : d.verdict === 'fail' ? 'FAIL' : 'skip'} ${d.caseId}${copy}${d.status ? ` ${d.status}` : ''}\n`;
}

/** `run --format table`: live progress on a terminal, then the per-case table and any retry timelines. */
export const tableReporter = {
  listen(run, { io, meta, write }) {
    if (io.tty) {
      run.on('delivery', (d) => io.err(progressLine(d)));
      // A compressed retry schedule still takes about a minute: show each attempt as it happens.
      run.on('retryAttempt', (caseId, a) =>
        io.err(`retry ${caseId} #${a.attempt} (${formatWechatOffset(a.wechatOffsetSeconds)} WeChat time) ${a.status ?? '-'} ${a.verdict === 'pass' ? 'PASS' : 'FAIL'}\n`),
      );
    }
    run.on('done', (result) => {
      const summaries = summarizeCases(result.deliveries, result.retries);
      const table = renderTable(summaries, { color: io.color, diagnoses: diagnoseRun(summaries, result.deliveries), failOn: meta.failOn, addedControls: meta.addedControls });
      write(table + (result.retries ?? []).map((timeline) => '\n' + renderTimeline(timeline)).join(''));
    });
  },
} satisfies Reporter;
