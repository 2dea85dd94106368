// The checks and encodings every layer shares: hex keys and ids, strict base64, SHA-256.
import { createHash, randomBytes } from 'node:crypto'

const HEX64 = /^[0-9a-f]{64}$/
/** Base64 characters with padding only at the end (and, checked apart, whole 4-character
 *  groups). No repeated group in the pattern: it runs on 14 MB strings (sendfile). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** A 64-character lowercase hex string: a public key, an event id, a SHA-256. */
export const isHex64 = (value: unknown): value is string => typeof value === 'string' && HEX64.test(value)

export const isBase64 = (value: unknown): value is string => typeof value === 'string' && value.length % 4 === 0 && BASE64.test(value)

/** Decodes strict base64 (whitespace between groups allowed); null when it is not base64. */
export function decodeBase64(text: string): Buffer | null {
  const compact = text.replace(/\s+/g, '')
  return isBase64(compact) ? Buffer.from(compact, 'base64') : null
}

export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex')

/** A random lowercase hex id of `bytes` bytes (call ids, file ids). */
export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex')
