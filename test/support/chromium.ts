import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Debian's headless Chromium for the reports' browser checks: the flags keep it off the closed
 * network; its process tree is killed at the end or after 30 s.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/** Headless Chromium, offline, in its own process group so the whole tree is killed afterwards. */
export function chromium(args: string[], profile: string): Promise<string> {
  const child = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-extensions',
      '--disable-domain-reliability',
      '--disable-client-side-phishing-detection',
      `--user-data-dir=${profile}`,
      ...args,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const killTree = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => void (out += chunk.toString('utf8')));
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      killTree();
      reject(new Error('chromium did not finish within 30 s'));
    }, 30_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  }).finally(killTree);
}
