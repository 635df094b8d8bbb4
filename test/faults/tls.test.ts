import { createServer, type Server } from 'node:https';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate, testCertificateValidity } from '../../src/keys/self-signed-certificate.js';
import { HINTS } from '../../src/judge/causes.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { demoConfig } from '../../src/commands/demo.js';
import { testKeys } from '../support/suite-fixture.js';

/** A merchant test server on https with a self-signed certificate: common, and WeChat would refuse it. */
describe('notify_url on https with a self-signed certificate', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const keys = testKeys();
    const cert = createSelfSignedCertificate({
      privateKeyPem: keys.certificate.privateKeyPem,
      serial: keys.certificate.serial,
      validity: testCertificateValidity(new Date()),
    });
    // Answers every v3 delivery with 204: this test is about the transport, not verification.
    server = createServer({ key: keys.certificate.privateKeyPem, cert }, (req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fails with the TLS cause and hint, and passes with --insecure', async () => {
    const config = demoConfig(testKeys(), url, '/tmp');
    const strict = memoryIO();
    expect(
      await runSuite(
        config,
        { format: 'json', reporters: [], reporterDir: '.', insecure: false, only: ['v3.pay.success'] },
        strict,
        'tls',
      ),
    ).toBe(1);
    const failed = JSON.parse(strict.stdout).cases[0];
    expect(failed).toMatchObject({ caseId: 'v3.pay.success', verdict: 'fail', cause: 'tls', hint: HINTS.tls });
    expect(failed.error).toMatch(/self.signed|SELF_SIGNED|certificate/i);

    const insecure = memoryIO();
    expect(
      await runSuite(
        config,
        { format: 'json', reporters: [], reporterDir: '.', insecure: true, only: ['v3.pay.success'] },
        insecure,
        'tls',
      ),
    ).toBe(0);
  }, 30_000);
});

/** https:// in the config, but the port speaks plain HTTP: a URL mistake, not a certificate problem. */
describe('notify_url on https:// pointing at a plain-HTTP port', () => {
  it('names the cause (plain HTTP, not TLS), with a hint on one line in the table', async () => {
    const plain = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const config = demoConfig(testKeys(), `https://127.0.0.1:${(plain.address() as AddressInfo).port}`, '/tmp');
      const io = memoryIO();
      expect(
        await runSuite(
          config,
          { format: 'table', reporters: [], reporterDir: '.', insecure: false, only: ['v3.pay.success'] },
          io,
          'tls',
        ),
      ).toBe(1);
      const row = io.stdout.split('\n').find((l) => l.startsWith('v3.pay.success'))!;
      expect(row).toMatch(/FAIL\s+.*wrong version number.*This port answers plain HTTP, not TLS/i);
      expect(io.stdout).not.toMatch(/certificate must be valid/);
      // Every row is one line: the table's rows are exactly the header, the rule and the case.
      expect(io.stdout.split('\n').filter((l) => l.includes('v3.pay.success'))).toHaveLength(1);
    } finally {
      plain.closeAllConnections();
      await new Promise((resolve) => plain.close(resolve));
    }
  }, 30_000);
});
