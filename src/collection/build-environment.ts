import type { ResolvedConfig } from '../config/types.js';
import { stableId } from './stable-id.js';
import { environmentVariables } from './variables.js';

/**
 * The Postman environment: URLs, serials and secrets. Secret values are typed `secret` so the
 * Postman app masks them; with `withSecrets: false` they are left empty for committing.
 */
export function buildEnvironment(config: ResolvedConfig, withSecrets: boolean): Record<string, unknown> {
  return {
    id: stableId('environment', config.name),
    name: `${config.name} — wxpay-notify`,
    values: environmentVariables(config, withSecrets).map((v) => ({
      key: v.key,
      value: v.value,
      type: v.secret ? 'secret' : 'default',
      enabled: true,
    })),
    _postman_variable_scope: 'environment',
  };
}
