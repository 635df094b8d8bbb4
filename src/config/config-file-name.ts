import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The names a config is looked up by when `-c` is not given, in order. `init` writes the first:
 * `.jsonc` is the extension editors read as JSON with comments (VS Code's "JSON with Comments"), so
 * the commented file init writes is clean there; a `.json` config (from wxpay-notify 0.1.0's init,
 * or written by hand) keeps working. Both are read as JSON with comments.
 */
export const CONFIG_FILE_NAMES = ['wxpay-notify.jsonc', 'wxpay-notify.json'] as const;

/** The config file in `dir` when `-c` is not given: the first name that exists, else the first name. */
export function defaultConfigFile(dir: string): string {
  return CONFIG_FILE_NAMES.find((name) => existsSync(join(dir, name))) ?? CONFIG_FILE_NAMES[0];
}
