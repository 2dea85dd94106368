// NIP-17 direct messages as people's clients send them (Amethyst, 0xchat, NDK, rust-nostr):
// text (kind 14, an `e` tag when it replies to a message), file messages (kind 15: an
// encrypted file at a URL, with its key and nonce in tags) and reactions (kind 7, `e` naming
// the message reacted to); a NIP-40 `expiration` for disappearing messages.

import type { Event } from 'nostr-tools/pure'
import { isHex64 } from '../encoding.ts'
import { MAX_MESSAGE_BYTES } from '../limits.ts'
import { DM_KIND, expirationOf, FILE_MESSAGE_KIND, REACTION_KIND, tagValue } from './kinds.ts'

/** A file message's file: fetched by the agent if it wants it, decrypted with these tags. */
export interface RemoteFile {
  url: string
  type: string
  size?: number
  /** SHA-256 of the encrypted file (`x`), and of the original (`ox`) */
  sha256?: string
  originalSha256?: string
  encryption?: { algorithm: string; key: string; nonce: string }
}

export interface PersonalDm {
  type: 'dm'
  /** the text; a reaction's content (an emoji, `+`); a file message's URL */
  text: string
  /** 14 (text) when absent */
  kind?: 14 | 7 | 15
  /** the message this one answers (kind 14 `e` tag) or reacts to (kind 7) */
  replyTo?: string
  file?: RemoteFile
  /** NIP-40: not kept past this (Unix seconds) */
  expiresAt?: number
  /** the seal it came in, signed by its author: what shows an owner's message to a peer */
  seal?: Event
}

const KINDS = [DM_KIND, REACTION_KIND, FILE_MESSAGE_KIND]
const cut = (value: string | undefined, max = 1_000) => (typeof value === 'string' ? value.slice(0, max) : undefined)

/** Reads a person's DM; null when it is none of the kinds above, or malformed. */
export function parseDm(rumor: { kind: number; content: string; tags: string[][] }): PersonalDm | null {
  if (!KINDS.includes(rumor.kind) || typeof rumor.content !== 'string') return null
  const kind = rumor.kind as NonNullable<PersonalDm['kind']>
  const expiresAt = expirationOf(rumor)
  // Amethyst: ["e", id, relay, "reply", pubkey]; a reaction names the message in its last e tag
  const eTags = rumor.tags.filter((t) => Array.isArray(t) && t[0] === 'e' && isHex64(t[1]))
  const replyTo = (kind === REACTION_KIND ? eTags.at(-1) : (eTags.find((t) => t[3] === 'reply') ?? eTags.at(-1)))?.[1]
  const base: PersonalDm = {
    type: 'dm',
    ...(kind !== DM_KIND ? { kind } : {}),
    text: capBytes(rumor.content, MAX_MESSAGE_BYTES),
    ...(replyTo ? { replyTo } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  }
  if (kind !== FILE_MESSAGE_KIND) return base
  if (!/^https?:\/\//.test(rumor.content)) return null
  const [algorithm, key, nonce] = ['encryption-algorithm', 'decryption-key', 'decryption-nonce'].map((t) => cut(tagValue(rumor, t)))
  const size = Number(tagValue(rumor, 'size'))
  const file: RemoteFile = {
    url: cut(rumor.content, 2_000) ?? '',
    type: cut(tagValue(rumor, 'file-type'), 100) ?? 'application/octet-stream',
    ...(Number.isSafeInteger(size) && size >= 0 ? { size } : {}),
    ...(isHex64(tagValue(rumor, 'x') ?? '') ? { sha256: tagValue(rumor, 'x') } : {}),
    ...(isHex64(tagValue(rumor, 'ox') ?? '') ? { originalSha256: tagValue(rumor, 'ox') } : {}),
    ...(algorithm && key && nonce ? { encryption: { algorithm, key, nonce } } : {}),
  }
  return { ...base, file }
}

/** A person's DM is kept whole up to the message limit, and cut there (NIP-44's extended
 *  length lets a stranger send far more). */
export function capBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text
  return `${Buffer.from(text)
    .subarray(0, max)
    .toString('utf8')
    .replace(/\uFFFD$/, '')}… (cut: longer than ${max} bytes)`
}
