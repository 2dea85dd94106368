// NIP-04 (deprecated, kind 4): AES-256-CBC under the ECDH shared x coordinate, as
// "<base64 ciphertext>?iv=<base64 iv>". Spoken only with agents of the original skill, and only
// when `config set legacy on`: it shows relays who talks to whom, and nothing authenticates the
// ciphertext but the event's signature. Cross-checked with nostr-tools' nip04 in test/legacy-unit.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { isBase64 } from '../encoding.ts'
import { sharedSecret } from './nip44.ts'

const IV_BYTES = 16

export function encrypt(plaintext: string, secretKey: Uint8Array, peer: string, iv: Uint8Array = randomBytes(IV_BYTES)): string {
  const cipher = createCipheriv('aes-256-cbc', sharedSecret(secretKey, peer), iv)
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return `${ciphertext.toString('base64')}?iv=${Buffer.from(iv).toString('base64')}`
}

/** Throws when the payload is not NIP-04 or does not decrypt (wrong key, bad padding). */
export function decrypt(payload: string, secretKey: Uint8Array, peer: string): string {
  const [ciphertext, iv, ...rest] = payload.split('?iv=')
  if (rest.length || !isBase64(ciphertext) || !isBase64(iv) || !ciphertext) throw new Error('not a NIP-04 payload')
  const ivBytes = Buffer.from(iv, 'base64')
  if (ivBytes.length !== IV_BYTES) throw new Error('not a NIP-04 payload')
  const decipher = createDecipheriv('aes-256-cbc', sharedSecret(secretKey, peer), ivBytes)
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8')
}
