// The wire format between agents: NIP-17 direct messages. Each message is a kind 14 rumor,
// sealed (kind 13) and gift-wrapped (kind 1059) by nostr-tools' NIP-59 code. Call control
// travels as kind 14 too: `content` is a sentence a person can read in any Nostr client, and
// a ["p2p", type, callId] tag (plus a few more) carries what the machine needs.
import { finalizeEvent, generateSecretKey, getEventHash, type Event, type EventTemplate, type UnsignedEvent } from 'nostr-tools/pure'
import { conversationKey, encrypt, decrypt } from './crypto/nip44.ts'

export const DM_KIND = 14
export const SEAL_KIND = 13
export const GIFT_WRAP_KIND = 1059
/** NIP-59: seals and wraps are dated up to this long in the past, at random. */
const TIMESTAMP_SPREAD_S = 2 * 24 * 3600
/** Raw file bytes per chunk: base64 makes it 20,000 characters, and the two NIP-44 layers
 *  keep the whole gift wrap near 48 KB, under the 64 KiB event cap of common relays. */
export const CHUNK_BYTES = 15_000
/** The largest message `send` takes; above it, `sendfile`. Fits one wrap with room to spare. */
export const MAX_MESSAGE_BYTES = 16_000
export const MAX_FILE_BYTES = 10 * 1024 * 1024
const MAX_CHUNKS = Math.ceil(MAX_FILE_BYTES / CHUNK_BYTES)

export type Rumor = UnsignedEvent & { id: string }

export interface FileChunk {
  fileId: string
  name: string
  size: number
  sha256: string
  index: number
  total: number
  data: string
}

export type P2PMessage =
  | { type: 'call-request'; callId: string; topic: string }
  | { type: 'call-accept'; callId: string }
  | { type: 'call-reject'; callId: string; reason: string }
  | { type: 'message'; callId: string; text: string }
  | { type: 'file-chunk'; callId: string; chunk: FileChunk }
  | { type: 'call-end'; callId: string }
  /** the sender handed a decision in this call to its human owner */
  | { type: 'escalation'; callId: string; reason: string }
  /** a DM that is not part of the p2p protocol: from a person, or another client */
  | { type: 'dm'; text: string }

const CALL_ID = /^[0-9a-f]{8,64}$/
const HEX64 = /^[0-9a-f]{64}$/
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

export const newId = (bytes = 5) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('')

/** A file name is kept only if it cannot point outside the folder it is saved in. */
export function isSafeFileName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 200 &&
    name !== '.' &&
    name !== '..' &&
    !/[/\\\u0000-\u001f\u007f]/.test(name) &&
    !name.startsWith('.')
  )
}

/** The kind 14 rumor for a message from `from` to `to`. The p2p tag's fourth element is the
 *  send time in milliseconds: it orders messages sent within the same second. */
export function buildRumor(msg: P2PMessage, from: string, to: string, now: number, senderName: string, nowMs = Date.now()): Rumor {
  const tags: string[][] = [['p', to]]
  const ms = String(nowMs)
  let content: string
  switch (msg.type) {
    case 'call-request':
      tags.push(['p2p', msg.type, msg.callId, ms], ['subject', msg.topic])
      content = `📞 ${senderName} asks for a call about "${msg.topic}" (call ${msg.callId}). Agents answer with \`node p2p.js answer accept\`.`
      break
    case 'call-accept':
      tags.push(['p2p', msg.type, msg.callId, ms])
      content = `✅ ${senderName} accepted call ${msg.callId}.`
      break
    case 'call-reject':
      tags.push(['p2p', msg.type, msg.callId, ms], ['reason', msg.reason])
      content = `❌ ${senderName} declined call ${msg.callId}${msg.reason ? `: ${msg.reason}` : '.'}`
      break
    case 'message':
      tags.push(['p2p', msg.type, msg.callId, ms])
      content = msg.text
      break
    case 'file-chunk': {
      const c = msg.chunk
      tags.push(['p2p', msg.type, msg.callId, ms], ['file', c.fileId, c.name, String(c.size), c.sha256, String(c.index), String(c.total)], ['data', c.data])
      content = `📎 File "${c.name}" (${c.size} bytes), part ${c.index + 1} of ${c.total}.`
      break
    }
    case 'call-end':
      tags.push(['p2p', msg.type, msg.callId, ms])
      content = `👋 ${senderName} ended call ${msg.callId}.`
      break
    case 'escalation':
      tags.push(['p2p', msg.type, msg.callId, ms], ['reason', msg.reason])
      content = `🙋 ${senderName} handed a decision in call ${msg.callId} to a human: ${msg.reason}`
      break
    case 'dm':
      content = msg.text
      break
  }
  const rumor = { kind: DM_KIND, pubkey: from, created_at: now, tags, content }
  return { ...rumor, id: getEventHash(rumor) }
}

const tagOf = (rumor: Rumor, name: string) => rumor.tags.find((t) => Array.isArray(t) && t[0] === name)

/** Reads a rumor; null when it is malformed or not something we understand. */
export function parseRumor(rumor: Rumor): P2PMessage | null {
  if (rumor.kind !== DM_KIND || typeof rumor.content !== 'string') return null
  const p2p = tagOf(rumor, 'p2p')
  if (!p2p) return { type: 'dm', text: rumor.content }
  const [, type, callId] = p2p
  if (typeof callId !== 'string' || !CALL_ID.test(callId)) return null
  switch (type) {
    case 'call-request': {
      const topic = tagOf(rumor, 'subject')?.[1]
      return typeof topic === 'string' && topic.length <= 500 ? { type, callId, topic } : null
    }
    case 'call-accept':
    case 'call-end':
      return { type, callId }
    case 'call-reject':
    case 'escalation': {
      const reason = tagOf(rumor, 'reason')?.[1] ?? ''
      return typeof reason === 'string' && reason.length <= 2000 ? { type, callId, reason } : null
    }
    case 'message':
      return rumor.content.length <= MAX_MESSAGE_BYTES * 2 ? { type, callId, text: rumor.content } : null
    case 'file-chunk': {
      const chunk = parseChunk(tagOf(rumor, 'file'), tagOf(rumor, 'data'))
      return chunk ? { type, callId, chunk } : null
    }
  }
  return null
}

function parseChunk(file: string[] | undefined, data: string[] | undefined): FileChunk | null {
  if (!file || !data) return null
  const [, fileId, name, sizeText, sha256, indexText, totalText] = file
  const [size, index, total] = [Number(sizeText), Number(indexText), Number(totalText)]
  const chunk = { fileId, name, size, sha256, index, total, data: data[1] }
  const valid =
    typeof fileId === 'string' && CALL_ID.test(fileId) &&
    typeof name === 'string' && isSafeFileName(name) &&
    Number.isInteger(size) && size >= 0 && size <= MAX_FILE_BYTES &&
    typeof sha256 === 'string' && HEX64.test(sha256) &&
    Number.isInteger(total) && total >= 1 && total <= MAX_CHUNKS && total === Math.max(1, Math.ceil(size / CHUNK_BYTES)) &&
    Number.isInteger(index) && index >= 0 && index < total &&
    typeof chunk.data === 'string' && chunk.data.length <= Math.ceil(CHUNK_BYTES / 3) * 4 && BASE64.test(chunk.data)
  return valid ? chunk : null
}

/** The sender's millisecond clock from the p2p tag, 0 when absent. */
export function rumorMs(rumor: Rumor): number {
  const ms = Number(tagOf(rumor, 'p2p')?.[3])
  return Number.isSafeInteger(ms) && ms > 0 ? ms : 0
}

const randomPast = () => Math.floor(Date.now() / 1000 - Math.random() * TIMESTAMP_SPREAD_S)

type Sign = (template: EventTemplate, secretKey: Uint8Array) => Event

/** Seals (kind 13, signed by the sender) and gift-wraps (kind 1059, signed by a throw-away key)
 *  a rumor for `recipient`, both NIP-44 encrypted, both dated at random in the last 2 days. */
export function wrapRumor(rumor: Rumor, senderSecretKey: Uint8Array, recipient: string, sign: Sign = finalizeEvent): Event {
  const seal = sign(
    { kind: SEAL_KIND, created_at: randomPast(), tags: [], content: encrypt(JSON.stringify(rumor), conversationKey(senderSecretKey, recipient)) },
    senderSecretKey,
  )
  const wrapKey = generateSecretKey()
  return sign(
    { kind: GIFT_WRAP_KIND, created_at: randomPast(), tags: [['p', recipient]], content: encrypt(JSON.stringify(seal), conversationKey(wrapKey, recipient)) },
    wrapKey,
  )
}

/** Opens a gift wrap addressed to us, down to its seal and rumor. Checks that the seal is a
 *  seal and that its signer wrote the rumor, and recomputes the rumor id; the seal's signature
 *  is left to the caller, to check in bulk. Throws on anything that does not open. */
export function openWrap(wrap: Event, recipientSecretKey: Uint8Array): { seal: Event; rumor: Rumor } {
  const seal = JSON.parse(decrypt(wrap.content, conversationKey(recipientSecretKey, wrap.pubkey)))
  if (!seal || seal.kind !== SEAL_KIND || typeof seal.pubkey !== 'string' || typeof seal.content !== 'string') throw new Error('not a seal')
  const rumor = JSON.parse(decrypt(seal.content, conversationKey(recipientSecretKey, seal.pubkey)))
  if (!rumor || typeof rumor !== 'object' || !Array.isArray(rumor.tags) || typeof rumor.created_at !== 'number') throw new Error('malformed rumor')
  if (rumor.pubkey !== seal.pubkey) throw new Error('the seal was signed by someone other than the rumor author')
  return { seal, rumor: { ...rumor, id: getEventHash(rumor) } }
}
