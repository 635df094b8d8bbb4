/**
 * One `load` run alone in its process, so its peak memory is its own:
 * `node dist/bench/load-child.js <json LoadChildArgs>` prints the run's JSON report on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSuite, type LoadArgs } from '../../src/commands/load.js';
import { LOAD_DEFAULTS } from '../../src/commands/load-options.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { demoConfig } from '../../src/commands/demo.js';
import { generateTestKeys } from '../../src/keys/generate-keys.js';
import { loadConfig } from '../../src/config/load-config.js';

export interface LoadChildArgs {
  /** Receiver base URL: the demo config with fresh keys, aimed there. */
  url?: string;
  /** Or a config file (e.g. the one `serve` runs with). */
  configFile?: string;
  load: Partial<LoadArgs>;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as LoadChildArgs;
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-bench-load-'));
  try {
    const config = input.configFile
      ? await loadConfig(input.configFile)
      : demoConfig(generateTestKeys(), input.url ?? '', dir);
    const io = memoryIO();
    const args: LoadArgs = {
      config: 'bench',
      rate: 100,
      duration: 10,
      ramp: 0,
      duplicates: 0,
      concurrent: 0,
      timeoutMs: LOAD_DEFAULTS.timeoutMs,
      presign: false,
      format: 'json',
      reporters: [],
      reporterDir: dir,
      minAck: 0,
      maxP99: 1e9,
      ...input.load,
    };
    await loadSuite(config, args, io);
    process.stdout.write(io.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invoked === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`load-child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
