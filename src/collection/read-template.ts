import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/types.js';
import { TEMPLATES_DIR } from '../paths.js';

/**
 * A template, from the partner (服务商) folder when the config is a service provider's and one
 * exists. Without a sub-merchant appid, WeChat sends no sub_appid or sub_openid: those lines go.
 */
export function readTemplate(name: string, config: ResolvedConfig): string {
  if (config.partner) {
    const [version, file] = name.split('/');
    let text: string | undefined;
    try {
      text = readFileSync(join(TEMPLATES_DIR, version!, 'partner', file!), 'utf8');
    } catch {
      // no partner variant: the direct template applies as is
    }
    if (text !== undefined) {
      return config.partner.subAppid
        ? text
        : text
            .split('\n')
            .filter((line) => !/\{\{sub_(appid|openid)\}\}/.test(line))
            .join('\n');
    }
  }
  return readFileSync(join(TEMPLATES_DIR, name), 'utf8');
}
