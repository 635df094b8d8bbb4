/**
 * The faulty endpoints of test/fixtures/stacks/, started for a test file: the real Django and Flask
 * apps (Debian's python3-django / python3-flask), and a server that answers with an example's exact
 * bytes (for stacks that cannot run here). Everything listens on 127.0.0.1, ephemeral ports.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { StackAnswer } from '../../src/judge/fingerprints.js';

export const PYTHON = '/usr/bin/python3';

/** Why a Python framework cannot run here, or null when it can. */
export function pythonFrameworkMissing(module: 'django' | 'flask'): string | null {
  const probe = spawnSync(PYTHON, ['-c', `import ${module}`], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} is not available (${probe.error.message}); install python3-${module}`;
  return probe.status === 0 ? null : `${PYTHON} has no '${module}'; install it: apt-get install python3-${module}`;
}

export interface StartedStack {
  url: string;
  close(): Promise<void>;
}

/** Starts test/fixtures/stacks/<app>.py; it prints its port, and exits when its stdin closes. */
export function startPythonApp(app: 'django_app' | 'flask_app'): Promise<StartedStack> {
  const file = fileURLToPath(new URL(`../fixtures/stacks/${app}.py`, import.meta.url));
  const child: ChildProcess = spawn(PYTHON, [file], { stdio: ['pipe', 'pipe', 'ignore'] });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.stdin?.end();
      child.kill();
    });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${app}.py exited (${code}) before listening`)));
    child.stdout!.once('data', (chunk: Buffer) =>
      resolve({ url: `http://127.0.0.1:${Number(String(chunk).trim())}`, close }),
    );
  });
}

/** A server answering `/<name>/...` with the bytes of answers[name]. */
export async function startAnswerServer(answers: Readonly<Record<string, StackAnswer>>): Promise<StartedStack> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const name = decodeURIComponent((req.url ?? '').split('/')[1] ?? '');
      const answer = answers[name];
      if (!answer) return void res.writeHead(599).end();
      const headers = Object.fromEntries(
        Object.entries(answer.headers).filter((e): e is [string, string] => e[1] !== undefined),
      );
      res.writeHead(answer.status, headers).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
