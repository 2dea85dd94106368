// NIP-44 version 2 on Node's own crypto (OpenSSL: ECDH, HMAC-SHA256, ChaCha20, base64).
// The wraps' throw-away keys make one key agreement per gift wrap unavoidable.
// The same algorithm nostr-tools implements in JavaScript, several times faster; both are
// cross-checked, and checked against the official vectors, in test/crypto.test.ts.
// Conversation keys are cached per key pair, so a peer's seals cost one key agreement per run.
import { createCipheriv, createECDH, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { isBase64, isHex64 } from '../encoding.ts'
import { BULK_CRYPTO_FROM } from '../limits.ts'

const SALT = Buffer.from('nip44-v2')
/** The classic NIP-44 cap, which deployed peers enforce. */
export const MAX_PLAINTEXT = 65_535

const hmac = (key: Uint8Array, ...parts: Uint8Array[]) => {
  const h = createHmac('sha256', key)
  for (const p of parts) h.update(p)
  return h.digest()
}

const conversationKeys = new Map<string, Buffer>()

/** The shared point's x coordinate. OpenSSL by default; libsecp256k1 (WASM, about three
 *  times faster) once `prepareBulk` has loaded it for a run with many key agreements. */
let sharedX = (secretKey: Uint8Array, publicKeyHex: string): Buffer => {
  const ecdh = createECDH('secp256k1')
  ecdh.setPrivateKey(Buffer.from(secretKey))
  return ecdh.computeSecret(Buffer.from(`02${publicKeyHex}`, 'hex'))
}

export async function prepareBulk(keyAgreements: number): Promise<void> {
  if (keyAgreements < BULK_CRYPTO_FROM) return
  const ecc = await import('tiny-secp256k1')
  sharedX = (secretKey, publicKeyHex) => {
    // pointMultiply throws on an off-curve point or a scalar >= n, but a zero scalar only yields null
    if (!ecc.isPrivate(secretKey)) throw new Error('invalid secret key')
    const point = ecc.pointMultiply(Buffer.from(`02${publicKeyHex}`, 'hex'), secretKey, true)
    if (!point) throw new Error('invalid public key')
    return Buffer.from(point.subarray(1))
  }
}

/** The ECDH shared secret NIP-04 uses as its AES key: the shared point's x coordinate. */
export function sharedSecret(secretKey: Uint8Array, publicKeyHex: string): Buffer {
  if (!isHex64(publicKeyHex)) throw new Error('invalid public key')
  return sharedX(secretKey, publicKeyHex)
}

export function conversationKey(secretKey: Uint8Array, publicKeyHex: string): Buffer {
  const id = `${Buffer.from(secretKey).toString('hex')}:${publicKeyHex}`
  let key = conversationKeys.get(id)
  if (!key) {
    // Buffer.from(hex) stops at the first foreign character: a key with junk appended would pass
    if (!isHex64(publicKeyHex)) throw new Error('invalid public key')
    key = hmac(SALT, sharedX(secretKey, publicKeyHex)) // HKDF-extract
    conversationKeys.set(id, key)
  }
  return key
}

/** The length of one message's keys: ChaCha20 key, ChaCha20 nonce, HMAC key. */
export const MESSAGE_KEYS_BYTES = 76

/** HKDF-expand to 76 bytes: one message's keys. They open that message only, and do not give
 *  the conversation key back (HKDF cannot be run backwards): what an owner proof discloses. */
function expandKeys(convKey: Uint8Array, nonce: Uint8Array): Buffer {
  const t1 = hmac(convKey, nonce, Buffer.from([1]))
  const t2 = hmac(convKey, t1, nonce, Buffer.from([2]))
  const t3 = hmac(convKey, t2, nonce, Buffer.from([3]))
  return Buffer.concat([t1, t2, t3]).subarray(0, MESSAGE_KEYS_BYTES)
}

const splitKeys = (okm: Uint8Array) => ({
  chachaKey: okm.subarray(0, 32),
  chachaNonce: okm.subarray(32, 44),
  hmacKey: okm.subarray(44, 76),
})
const messageKeys = (convKey: Uint8Array, nonce: Uint8Array) => splitKeys(expandKeys(convKey, nonce))

export function paddedLength(length: number): number {
  if (length <= 32) return 32
  const nextPower = 2 ** (Math.floor(Math.log2(length - 1)) + 1)
  const chunk = nextPower <= 256 ? 32 : nextPower / 8
  return chunk * (Math.floor((length - 1) / chunk) + 1)
}

/** The length of the base64 payload that encrypts `bytes` bytes of plaintext (version,
 *  nonce, length prefix, padded text, MAC); undefined beyond NIP-44's cap. */
export function payloadLength(bytes: number): number | undefined {
  if (bytes < 1 || bytes > MAX_PLAINTEXT) return undefined
  return Math.ceil((1 + 32 + 2 + paddedLength(bytes) + 32) / 3) * 4
}

function chacha20(key: Uint8Array, nonce: Uint8Array, data: Uint8Array): Buffer {
  // OpenSSL's chacha20 IV: a 4-byte little-endian block counter (0), then the 12-byte nonce
  const cipher = createCipheriv('chacha20', key, Buffer.concat([Buffer.alloc(4), nonce]))
  return Buffer.concat([cipher.update(data), cipher.final()])
}

export function encrypt(plaintext: string, convKey: Uint8Array, nonce: Uint8Array = randomBytes(32)): string {
  const unpadded = Buffer.from(plaintext, 'utf8')
  if (unpadded.length < 1 || unpadded.length > MAX_PLAINTEXT) throw new Error(`NIP-44 plaintext must be 1 to ${MAX_PLAINTEXT} bytes`)
  const padded = Buffer.alloc(2 + paddedLength(unpadded.length))
  padded.writeUInt16BE(unpadded.length, 0)
  unpadded.copy(padded, 2)
  const keys = messageKeys(convKey, nonce)
  const ciphertext = chacha20(keys.chachaKey, keys.chachaNonce, padded)
  const mac = hmac(keys.hmacKey, nonce, ciphertext)
  return Buffer.concat([Buffer.from([2]), nonce, ciphertext, mac]).toString('base64')
}

export function decrypt(payload: string, convKey: Uint8Array): string {
  const parts = payloadParts(payload)
  return openParts(parts, messageKeys(convKey, parts.nonce))
}

/** The keys of the one message `payload` holds, which open it without the conversation key. */
export function payloadKeys(payload: string, convKey: Uint8Array): Buffer {
  return expandKeys(convKey, payloadParts(payload).nonce)
}

/** Opens a payload with its message keys (`payloadKeys`): the MAC checks that they are its. */
export function decryptWithKeys(payload: string, keys: Uint8Array): string {
  if (keys.length !== MESSAGE_KEYS_BYTES) throw new Error('message keys must be 76 bytes')
  return openParts(payloadParts(payload), splitKeys(keys))
}

function payloadParts(payload: string) {
  if (typeof payload !== 'string' || payload.length < 132 || payload[0] === '#') throw new Error('not a NIP-44 v2 payload')
  // strict: Node's decoder skips foreign characters, takes the URL-safe alphabet, needs no padding
  if (!isBase64(payload)) throw new Error('invalid base64')
  const data = Buffer.from(payload, 'base64')
  // Node also ignores non-zero unused bits in the last character, which the reference rejects
  if (data.toString('base64') !== payload) throw new Error('invalid base64')
  if (data.length < 99 || data[0] !== 2) throw new Error('not a NIP-44 v2 payload')
  return { nonce: data.subarray(1, 33), ciphertext: data.subarray(33, -32), mac: data.subarray(-32) }
}

function openParts({ nonce, ciphertext, mac }: ReturnType<typeof payloadParts>, keys: ReturnType<typeof splitKeys>): string {
  if (!timingSafeEqual(hmac(keys.hmacKey, nonce, ciphertext), mac)) throw new Error('invalid MAC')
  const padded = chacha20(keys.chachaKey, keys.chachaNonce, ciphertext)
  // the 2026 revision marks plaintexts of 65,536 bytes or more with a zero u16 and a u32 length
  const extended = padded.readUInt16BE(0) === 0
  const length = extended ? padded.readUInt32BE(2) : padded.readUInt16BE(0)
  const start = extended ? 6 : 2
  // NIP-44 rejects that form for shorter lengths: one plaintext would have two encodings
  if (extended && length <= MAX_PLAINTEXT) throw new Error('invalid padding')
  if (length < 1 || padded.length !== start + paddedLength(length)) throw new Error('invalid padding')
  return padded.subarray(start, start + length).toString('utf8')
}
