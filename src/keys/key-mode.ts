/**
 * Which WeChat Pay verification keys the merchant's test server uses: the WeChat Pay public key
 * (微信支付公钥, newer merchants), the platform certificate (平台证书, older ones), or both (the
 * switch-over; the key-mode cases then run).
 */
export type KeyMode = 'public-key' | 'certificate' | 'both';
export const KEY_MODES: readonly KeyMode[] = ['public-key', 'certificate', 'both'];
export const usesPublicKey = (mode: KeyMode): boolean => mode !== 'certificate';
export const usesCertificate = (mode: KeyMode): boolean => mode !== 'public-key';

export const KEY_MODE_TEXT: Record<KeyMode, string> = {
  'public-key': 'WeChat Pay public key only (微信支付公钥)',
  certificate: 'platform certificate only (平台证书)',
  both: 'public key and platform certificate (switch-over)',
};
