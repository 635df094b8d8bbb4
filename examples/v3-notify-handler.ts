import { createDecipheriv, createPublicKey, verify } from 'node:crypto';
import express from 'express';

export interface V3NotifyOptions {
  /** APIv3 key (APIv3密钥): decrypts resource.ciphertext. */
  apiV3Key: string;
  /** WeChat Pay public key (PUB_KEY_ID_…) and platform certificate (hex serial) PEMs, by Wechatpay-Serial. */
  trusted: Record<string, string>;
  /** Your business logic, once per notification id. */
  onNotification?: (eventType: string, resource: Record<string, unknown>) => void;
}

/** A small Express app with a WeChat Pay v3 notify handler: verify, decrypt, process once, answer 204. */
export function createV3App(options: V3NotifyOptions): express.Express {
  const keys = new Map(Object.entries(options.trusted).map(([serial, pem]) => [serial, createPublicKey(pem)]));
  const processed = new Set<string>();
  const app = express();

  // The signature covers the raw body bytes: take them as they came, never re-serialised JSON.
  app.post(['/wxpay/v3/notify', '/wxpay/v3/refund-notify'], express.raw({ type: () => true }), (req, res) => {
    const fail = (status: number, message: string) => res.status(status).json({ code: 'FAIL', message });
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const timestamp = req.get('Wechatpay-Timestamp');
    const nonce = req.get('Wechatpay-Nonce');
    const signature = req.get('Wechatpay-Signature');
    const key = keys.get(req.get('Wechatpay-Serial') ?? '');
    if (!timestamp || !nonce || !signature) return fail(401, 'missing Wechatpay-* signature headers');
    if (!key) return fail(401, 'unknown Wechatpay-Serial');
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300)
      return fail(401, 'Wechatpay-Timestamp is more than 5 minutes off');
    const message = Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`), body, Buffer.from('\n')]);
    if (!verify('RSA-SHA256', message, key, Buffer.from(signature, 'base64')))
      return fail(401, 'bad Wechatpay-Signature');

    let envelope: {
      id: string;
      event_type: string;
      resource: { ciphertext: string; nonce: string; associated_data?: string };
    };
    let resource: Record<string, unknown>;
    try {
      envelope = JSON.parse(body.toString('utf8'));
      const data = Buffer.from(envelope.resource.ciphertext, 'base64');
      const decipher = createDecipheriv(
        'aes-256-gcm',
        Buffer.from(options.apiV3Key, 'utf8'),
        Buffer.from(envelope.resource.nonce, 'utf8'),
      );
      decipher.setAAD(Buffer.from(envelope.resource.associated_data ?? '', 'utf8'));
      decipher.setAuthTag(data.subarray(data.length - 16));
      resource = JSON.parse(
        Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8'),
      );
    } catch {
      return fail(400, 'cannot decrypt resource');
    }
    // WeChat re-sends until it gets 200/204: acknowledge every copy, process each notification once.
    if (!processed.has(envelope.id)) {
      processed.add(envelope.id);
      options.onNotification?.(envelope.event_type, resource);
    }
    res.status(204).end();
  });
  return app;
}
