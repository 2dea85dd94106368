// Keys: made and derived with Node's OpenSSL (sync, and without loading a curve library, which
// would cost a local command like `whoami` more than its work); public keys as users type them
// (npub, nprofile, hex) and as we print them (NIP-19).
import { createECDH, randomBytes } from 'node:crypto'
import * as nip19 from 'nostr-tools/nip19'
import { isHex64 } from '../encoding.ts'

/** A new secret key: 32 random bytes that are a valid secp256k1 scalar (0 < k < n). */
export function newSecretKey(): Uint8Array {
  for (;;) {
    const candidate = randomBytes(32)
    try {
      createECDH('secp256k1').setPrivateKey(candidate)
      return new Uint8Array(candidate)
    } catch {
      // out of range: about once in 2^128 draws
    }
  }
}

/** The BIP-340 public key (hex, x only) of a secret key: the x coordinate of k·G. */
export function publicKeyFromSecret(secretKey: Uint8Array): string {
  const ecdh = createECDH('secp256k1')
  ecdh.setPrivateKey(Buffer.from(secretKey))
  return ecdh.getPublicKey('hex', 'compressed').slice(2)
}

/** The hex public key an npub, nprofile or hex string names, or null when it names none. */
export function parsePubkey(input: string): string | null {
  const value = input.trim()
  if (isHex64(value.toLowerCase())) return value.toLowerCase()
  if (!value.startsWith('npub1') && !value.startsWith('nprofile1')) return null
  try {
    const decoded = nip19.decode(value)
    if (decoded.type === 'npub') return decoded.data
    if (decoded.type === 'nprofile') return decoded.data.pubkey
  } catch {
    // malformed bech32
  }
  return null
}

export const npub = (pubkey: string): string => nip19.npubEncode(pubkey)

/** A short form for plain output: npub1abcd…wxyz */
export const shortNpub = (pubkey: string): string => {
  const full = npub(pubkey)
  return `${full.slice(0, 10)}…${full.slice(-4)}`
}
