// Turning what a user types for a key (npub, hex, nprofile) into a hex public key.
import * as nip19 from 'nostr-tools/nip19'

const HEX64 = /^[0-9a-f]{64}$/

/** The hex public key an npub, nprofile or hex string names, or null when it names none. */
export function parsePubkey(input: string): string | null {
  const value = input.trim()
  if (HEX64.test(value.toLowerCase())) return value.toLowerCase()
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
