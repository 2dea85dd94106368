// Public keys as users type them (npub, nprofile, hex) and as we print them (NIP-19).
import * as nip19 from 'nostr-tools/nip19'
import { isHex64 } from '../encoding.ts'

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
