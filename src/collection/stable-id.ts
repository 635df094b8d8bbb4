import { createHash } from 'node:crypto';

/**
 * A UUID-shaped id derived from names. postman-collection gives every object a random id unless
 * told otherwise, and random ids would make every regeneration a full-file diff.
 */
export function stableId(...parts: string[]): string {
  const hex = createHash('sha1').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
