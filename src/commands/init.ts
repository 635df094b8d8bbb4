import { EXIT, type ExitCode } from '../shared/errors.js';
import { initProject } from '../keys/init-project.js';
import type { CommandIO } from '../shared/command-io.js';
import type { KeyMode } from '../keys/key-mode.js';

export async function initCommand(
  args: { dir: string; force: boolean; keyMode?: KeyMode },
  io: CommandIO,
): Promise<ExitCode> {
  const result = await initProject({ dir: args.dir, force: args.force, keyMode: args.keyMode ?? 'both' });
  io.out(result.summary.endsWith('\n') ? result.summary : result.summary + '\n');
  return EXIT.ok;
}
