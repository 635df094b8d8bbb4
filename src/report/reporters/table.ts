import type { DeliveryResult } from '../../judge/types.js';
import { formatWechatOffset, renderTimeline } from '../../runner/retry-schedule.js';
import { renderTable } from '../render-table.js';
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
        io.err(
          `retry ${caseId} #${a.attempt} (${formatWechatOffset(a.wechatOffsetSeconds)} WeChat time) ${a.status ?? '-'} ${a.verdict === 'pass' ? 'PASS' : 'FAIL'}\n`,
        ),
      );
    }
    run.on('done', (result) => {
      const table = renderTable(result, { color: io.color, addedControls: meta.addedControls });
      write(table + (result.retries ?? []).map((timeline) => '\n' + renderTimeline(timeline)).join(''));
    });
  },
} satisfies Reporter;
