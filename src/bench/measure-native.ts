import { createPrivateKey, sign } from 'node:crypto';
import { sandboxScripts } from '../collection/sandbox-scripts.js';
import { loadSandboxFunctions } from '../sandbox/bundle.js';
import type { BenchContext, MeasureResult } from './harness.js';
import { infoRow } from './render-bench.js';
import { signInputs } from './sign-inputs.js';
import { formatMs, formatRatio, median } from './stats.js';

/** Median time of `count` calls after `warm` untimed ones. */
function medianCall(fn: () => unknown, warm: number, count: number): number {
  for (let i = 0; i < warm; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

export async function measureNative(ctx: BenchContext): Promise<MeasureResult> {
  const inputs = signInputs(ctx);
  const lib = loadSandboxFunctions(sandboxScripts().prerequest);
  const parsed = lib.parseRsaPrivateKeyPem!(inputs.pem);
  const keyObject = createPrivateKey(inputs.pem);
  const data = Buffer.from(inputs.message, 'utf8');
  const ours = (): string => lib.rsaSha256SignBase64!(parsed, inputs.message) as string;
  const native = (): string => sign('sha256', data, keyObject).toString('base64');
  if (ours() !== inputs.expected.signature || native() !== inputs.expected.signature) {
    throw new Error('native: the signatures differ; the comparison would be meaningless');
  }
  const count = ctx.quick ? 30 : 200;
  const oursMs = medianCall(ours, 10, count);
  const nativeMs = medianCall(native, 50, count * 5);
  return {
    rows: [infoRow('3. one RSA-2048 signature: sandbox signer ÷ node:crypto (the floor)', `${formatRatio(oursMs / nativeMs)} (${formatMs(oursMs)} vs ${formatMs(nativeMs)})`)],
    notes: [
      'The same key (already parsed: BigInt CRT parts for ours, a KeyObject for Node) and the same real-sized message; both signatures are checked byte-identical first. ' +
        `Median of ${count} signatures (ours, after 10 warm-up) and ${count * 5} (node:crypto/OpenSSL, after 50), timed with performance.now() in this process.`,
      'Ours runs from the generated pre-request bundle loaded into a Node vm context (loadSandboxFunctions), the same V8 and BigInt the newman sandbox uses; ' +
        'its time includes the SHA-256 via crypto-js and the verify-after-sign check the signer does against faulty keys.',
    ],
  };
}
