import { renderHtml } from '../render-html.js';
import type { Reporter } from '../reporter.js';

/** One self-contained HTML page: summary, every case, every delivery with request and answer. */
export const htmlReporter = {
  file: 'report.html',
  listen(run, { meta, write }) {
    run.on('done', (result) =>
      write(renderHtml(result, { name: meta.collection, config: meta.config, secrets: meta.secrets })),
    );
  },
} satisfies Reporter;
