import { createDecipheriv, createHash, createHmac } from 'node:crypto';
import express from 'express';
import { XMLParser } from 'fast-xml-parser';

export interface V2NotifyOptions {
  /** APIv2 key (APIv2密钥): checks the payment `sign` and decrypts the refund `req_info`. */
  apiKey: string;
  /** Your business logic, once per payment (transaction_id) or refund (out_refund_no + status). */
  onNotification?: (kind: 'pay' | 'refund', fields: Record<string, string>) => void;
}

const SUCCESS = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
const failXml = (message: string) =>
  `<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[${message}]]></return_msg></xml>`;

/** A small Express app with WeChat Pay v2 (XML) payment and refund notify handlers. */
export function createV2App(options: V2NotifyOptions): express.Express {
  // Values stay text, untrimmed: the sign covers them exactly as sent.
  const parser = new XMLParser({ parseTagValue: false, trimValues: false });
  const flatFields = (xml: string, root: string): Record<string, string> => {
    const doc = parser.parse(xml, true)[root];
    if (!doc || typeof doc !== 'object') throw new Error(`no <${root}> element`);
    // WeChat puts a newline after each field: that text between elements is layout, not a field.
    return Object.fromEntries(
      Object.entries(doc)
        .filter(([name]) => name !== '#text')
        .map(([name, value]) => [name, String(value)]),
    );
  };
  // Every non-empty field but sign, sorted by name, as k=v joined by &, then &key=<APIv2 key>.
  const sign = (fields: Record<string, string>, type: string): string => {
    const text =
      Object.keys(fields)
        .filter((k) => k !== 'sign' && fields[k] !== '')
        .sort()
        .map((k) => `${k}=${fields[k]}`)
        .join('&') + `&key=${options.apiKey}`;
    const digest = type === 'HMAC-SHA256' ? createHmac('sha256', options.apiKey) : createHash('md5');
    return digest.update(text, 'utf8').digest('hex').toUpperCase();
  };
  const processed = new Set<string>();
  const once = (id: string, kind: 'pay' | 'refund', fields: Record<string, string>): void => {
    if (processed.has(id)) return;
    processed.add(id);
    options.onNotification?.(kind, fields);
  };
  const app = express();
  const xmlBody = express.text({ type: () => true });

  app.post('/wxpay/v2/notify', xmlBody, (req, res) => {
    res.type('text/xml');
    let fields: Record<string, string>;
    try {
      fields = flatFields(String(req.body), 'xml');
    } catch {
      return res.send(failXml('not XML'));
    }
    // WeChat often leaves out sign_type on HMAC-SHA256 notifications: tell by the sign's length.
    const type = fields.sign_type ?? (fields.sign?.length === 64 ? 'HMAC-SHA256' : 'MD5');
    if (!fields.sign || sign(fields, type) !== fields.sign.toUpperCase()) return res.send(failXml('bad sign'));
    once(fields.transaction_id ?? '', 'pay', fields);
    res.send(SUCCESS);
  });

  // Refund notifications carry no sign: req_info decrypts (AES-256-ECB, key md5(APIv2 key)) or is forged.
  app.post('/wxpay/v2/refund-notify', xmlBody, (req, res) => {
    res.type('text/xml');
    let refund: Record<string, string>;
    try {
      const outer = flatFields(String(req.body), 'xml');
      const key = Buffer.from(createHash('md5').update(options.apiKey, 'utf8').digest('hex'), 'utf8');
      const decipher = createDecipheriv('aes-256-ecb', key, null);
      const plain = Buffer.concat([decipher.update(Buffer.from(outer.req_info ?? '', 'base64')), decipher.final()]);
      refund = flatFields(plain.toString('utf8'), 'root');
    } catch {
      return res.send(failXml('cannot decrypt req_info'));
    }
    once(`${refund.out_refund_no}/${refund.refund_status}`, 'refund', refund);
    res.send(SUCCESS);
  });
  return app;
}
