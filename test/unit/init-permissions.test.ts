import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { INIT_FILES } from '../../src/keys/init-files.js';
import { initProject } from '../../src/keys/init-project.js';
import { cliReadableBy, PERMISSION_USER, runCli, whyNoPermissionTests } from '../support/run-cli.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * keys/ holds the test private keys and API keys: after init it is 0700 and its files 0600, also
 * when the folder (or the files, with --force) were there before with wider permissions; when the
 * folder cannot be made private, init refuses and says why.
 */
// A folder owned by another user: only root can set that up (and then runs the CLI as nobody).
const NO_OTHER_OWNER = PERMISSION_USER
  ? whyNoPermissionTests()
  : 'needs a folder owned by another user: only root can set that up';
if (NO_OTHER_OWNER) console.warn(`init-permissions: the someone-else-owns-keys/ case is skipped: ${NO_OTHER_OWNER}`);
// Copies the CLI where nobody can read it, if the checkout is private (once, before the tests).
beforeAll(() => void (NO_OTHER_OWNER || cliReadableBy(PERMISSION_USER!)));
const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});
function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-perm-'));
  dirs.push(dir);
  return dir;
}
const mode = (path: string): number => statSync(path).mode & 0o777;
const SECRET_FILES = [INIT_FILES.secrets, INIT_FILES.publicKeyPrivate, INIT_FILES.certificatePrivate];

describe('init: keys/ is private every time', () => {
  it.each([
    ['0777', 0o777],
    ['0755', 0o755],
  ])('an existing empty keys/ with mode %s becomes 0700', async (_shown, before) => {
    const dir = tmp();
    mkdirSync(join(dir, 'keys'));
    chmodSync(join(dir, 'keys'), before);
    await initProject({ dir, keys: testKeys() });
    expect(mode(join(dir, 'keys')).toString(8)).toBe('700');
    for (const file of SECRET_FILES) expect(mode(join(dir, file)).toString(8), file).toBe('600');
  });

  it('with --force, world-readable key files and folder are replaced by private ones', async () => {
    const dir = tmp();
    await initProject({ dir, keys: testKeys() });
    chmodSync(join(dir, 'keys'), 0o755);
    for (const file of SECRET_FILES) chmodSync(join(dir, file), 0o644);
    await initProject({ dir, keys: testKeys(), force: true });
    expect(mode(join(dir, 'keys')).toString(8)).toBe('700');
    for (const file of SECRET_FILES) expect(mode(join(dir, file)).toString(8), file).toBe('600');
  });

  it.skipIf(NO_OTHER_OWNER)(
    'a keys/ that cannot be made private (someone else owns it) is refused, with the reason, before a secret is written',
    async () => {
      const nobody = PERMISSION_USER!;
      const dir = tmp();
      chmodSync(dir, 0o755);
      chownSync(dir, nobody.uid, nobody.gid);
      mkdirSync(join(dir, 'keys'));
      chmodSync(join(dir, 'keys'), 0o777); // root's, writable by all: nobody can write into it, not chmod it
      const result = await runCli(['init', '--dir', dir], { user: nobody });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/keys.*0700.*permission denied/);
      expect(readdirSync(join(dir, 'keys'))).toEqual([]);
      expect(existsSync(join(dir, INIT_FILES.config))).toBe(false);
    },
  );

  it('the files are 0600 whatever the umask', async () => {
    const dir = tmp();
    const previous = process.umask(0o000);
    try {
      await initProject({ dir, keys: testKeys() });
    } finally {
      process.umask(previous);
    }
    for (const file of SECRET_FILES) expect(mode(join(dir, file)).toString(8), file).toBe('600');
  });
});
