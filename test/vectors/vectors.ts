/**
 * docs/protocol.md#test-vectors: the one table of test vectors, run against both the Node code and
 * the sandbox.
 */
export const DOC_KEY = '192006250b4c09247ec02edce69f6a2d';

export const V2_DOC_EXAMPLE = {
  fields: {
    appid: 'wxd930ea5d5a258f4f',
    mch_id: '10000100',
    device_info: '1000',
    body: 'test',
    nonce_str: 'ibuaiVcKdpRxkhJA',
  },
  md5: '9A0A8659F005D6984697E2CA0A9CF3B7',
  hmac: '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6',
};

/** D1: a v2 payment notify; attach is empty and therefore not signed. */
export const D1 = {
  fields: {
    appid: 'wxd930ea5d5a258f4f',
    mch_id: '10000100',
    nonce_str: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
    result_code: 'SUCCESS',
    return_code: 'SUCCESS',
    openid: 'oUpF8uMEb4qRXf22hE3X68TekukE',
    is_subscribe: 'N',
    trade_type: 'JSAPI',
    bank_type: 'OTHERS',
    total_fee: '100',
    fee_type: 'CNY',
    cash_fee: '100',
    transaction_id: '4200000000000000000000000001',
    out_trade_no: 'ORDER20240101000001',
    time_end: '20240101120000',
    attach: '',
  } as Record<string, string>,
  md5: '326441E4CDF100FA6884739B93143149',
  hmacWithoutSignType: 'C5D561CC81708074677137438B0DB3980134F9E0330E5D0C1D7AF1A8CCEC2C40',
};

export const AES_ECB = {
  key: '0123456789abcdef0123456789abcdef',
  plaintext: 'hello',
  base64: 'pZwJZBLuy3mDACEQT4YTBw==',
};

export const AES_GCM = {
  key: 'a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb',
  nonce: 'uluk4a9R25RW',
  aad: 'associatedData',
  plaintext: 'message',
  ciphertext: 'ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=',
};

/** D2: the wechatpay-php refund fixture on one line, encrypted under md5(DOC_KEY). */
export const D2 = {
  aesKey: 'd96eb16afdd491fa1e705096edbc2205',
  plaintextSha256: '760cdbb7d57359839a5ee7b5a37ed5f1bf488317799b8111d16c77096dca858e',
  reqInfoLength: 1068,
  reqInfoStart: 'WBzGpzQuNpcFxIlFjUUD9FKo0rHFKIn0kRJVv7PAhPDSCjWAzcyQtBNpSb92FQg9',
  reqInfoEnd: 'hmW0JFFqTsWxTvNqOWTbU=',
};

/** D3: TRANSACTION.SUCCESS resource; the ciphertext is deterministic for key, nonce and AAD. */
export const D3 = {
  apiV3Key: 'a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb',
  nonce: 'fdasflkja484',
  aad: 'transaction',
  plaintext:
    '{"mchid":"1234567891","appid":"wxd678efh567hg6787","out_trade_no":"ORDER20240101000001","transaction_id":"4200000000000000000000000001","trade_type":"JSAPI","trade_state":"SUCCESS","trade_state_desc":"支付成功","bank_type":"OTHERS","attach":"","success_time":"2024-01-01T12:00:00+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"amount":{"total":100,"payer_total":100,"currency":"CNY","payer_currency":"CNY"}}',
  ciphertextStart: 'Y/YEfUnbjBvKjySBXpO0GvQL7g82rJu0ma+GDqJJTec+dUFFEmUAr1GSevciGbQa',
  /** SHA-256 of the compact envelope built around the ciphertext (897 bytes). */
  bodySha256: '3a5737abbc3c4accafe4961020708ebc07bc3b569ae472f051becce69bb9533b',
  bodyBytes: 897,
  envelope: (ciphertext: string) =>
    `{"id":"EV-2018022511223320873","create_time":"2024-01-01T12:00:01+08:00","resource_type":"encrypt-resource","event_type":"TRANSACTION.SUCCESS","summary":"支付成功","resource":{"original_type":"transaction","algorithm":"AEAD_AES_256_GCM","ciphertext":"${ciphertext}","associated_data":"transaction","nonce":"fdasflkja484"}}`,
};

/** The wechatpay-php refund req_info fixture (plaintext), as D2 compacts it. */
export const REFUND_FIXTURE_XML =
  '<root><out_refund_no><![CDATA[131811191610442717309]]></out_refund_no><out_trade_no><![CDATA[71106718111915575302817]]></out_trade_no><refund_account><![CDATA[REFUND_SOURCE_RECHARGE_FUNDS]]></refund_account><refund_fee><![CDATA[3960]]></refund_fee><refund_id><![CDATA[50000408942018111907145868882]]></refund_id><refund_recv_accout><![CDATA[支付用户零钱]]></refund_recv_accout><refund_request_source><![CDATA[API]]></refund_request_source><refund_status><![CDATA[SUCCESS]]></refund_status><settlement_refund_fee><![CDATA[3960]]></settlement_refund_fee><settlement_total_fee><![CDATA[3960]]></settlement_total_fee><success_time><![CDATA[2018-11-19 16:24:13]]></success_time><total_fee><![CDATA[3960]]></total_fee><transaction_id><![CDATA[4200000215201811190261405420]]></transaction_id></root>';
