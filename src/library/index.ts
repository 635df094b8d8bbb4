/**
 * `wxpay-notify`: build genuine (and forged) WeChat Pay notifications inside your own tests and judge
 * your handler's answers with the rules of the Postman test script. Loads no Postman/Newman code.
 */
export {
  buildV3Notification,
  buildV2PayNotification,
  buildV2RefundNotification,
  type Notification,
  type V3Notification,
  type V3Envelope,
  type V3NotificationOptions,
  type V2PayNotificationOptions,
  type V2RefundNotificationOptions,
} from './notifications.js';
export { buildCase, listCases, type BuiltCase, type BuildCaseOptions, type CaseInfo } from './build-case.js';
export { judge, type AnswerLike, type JudgeCheck, type Verdict } from './judge.js';
export { resolveConfig, type NotifyConfig, type SignerConfig } from './library-config.js';
export { loadConfig, type LoadOptions } from '../config/load-config.js';
export type { ResolvedConfig } from '../config/types.js';
export { ConfigError, UserError } from '../shared/errors.js';
export { generateTestKeys, type TestKeys } from '../keys/generate-keys.js';
export type { V2SignType, V3EventType } from '../protocol/constants.js';
export type { Expectation, Severity } from '../cases/types.js';
