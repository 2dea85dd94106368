// The original openclaw-p2p skill's wire format (v0.2 and v0.3, read in its public source,
// plugin/src/nostr-client.ts): kind 4 DMs (NIP-04) whose plaintext is a JSON object
// {type, roomId, …}. Mapped onto our own messages, so that a call with such an agent is one of
// our calls: its roomId (a UUID) is the call id without the dashes, and back. A file travels
// whole in one message (`room_file`), so it is held to what one event carries (limits.ts).
import { randomUUID } from 'node:crypto'
import type { Event, EventTemplate } from 'nostr-tools/pure'
import { isBase64, sha256Hex } from '../encoding.ts'
import { MAX_LEGACY_FILE_IN, MAX_MESSAGE_BYTES, MAX_NAME, MAX_NIP04_PLAINTEXT, MAX_REASON, MAX_TOPIC } from '../limits.ts'
import { singleLine } from '../sanitize.ts'
import { LEGACY_DM_KIND } from './kinds.ts'
import { decrypt, encrypt } from './nip04.ts'
import type { Opened } from './nip17.ts'
import type { Sign } from './nip59.ts'
import { isSafeFileName, type P2PMessage, type Rumor } from './p2p.ts'

const UUID = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i
const CALL_ID = /^[0-9a-f]{32}$/

/** The call id a roomId stands for; null when the roomId is not a UUID. */
export function callIdOfRoom(roomId: unknown): string | null {
  const parts = typeof roomId === 'string' ? UUID.exec(roomId) : null
  return parts ? parts.slice(1).join('').toLowerCase() : null
}

/** The id of a call we start with such an agent: its roomId is a random (version 4) UUID, as
 *  the original skill's own (`randomUUID`); roomIds of its calls are taken as they come. */
export const newLegacyCallId = (): string => callIdOfRoom(randomUUID()) as string

/** The roomId of a call id made by `callIdOfRoom` (or for a legacy call of ours). */
export function roomOfCall(callId: string): string {
  if (!CALL_ID.test(callId)) throw new Error(`call ${callId} has no roomId`)
  const at = [0, 8, 12, 16, 20, 32]
  return at
    .slice(1)
    .map((end, i) => callId.slice(at[i], end))
    .join('-')
}

/** Who we are in the original format: its `agentId` and `agentName`. */
export interface LegacySelf {
  agentId: string
  name: string
}

/** The JSON an agent of the original skill reads for `msg`, with `origin` (the sender's agentId)
 *  last, as v0.3 adds it to every message; null for what it has no words for (a DM outside a
 *  call, a file in more than one message, an owner's proof). */
export function legacyPayload(msg: P2PMessage, self: LegacySelf): Record<string, unknown> | null {
  const payload = legacyFields(msg, self)
  return payload && { ...payload, origin: self.agentId }
}

function legacyFields(msg: P2PMessage, self: LegacySelf): Record<string, unknown> | null {
  if (msg.type === 'dm' || msg.type === 'owner-proof') return null
  const roomId = roomOfCall(msg.callId)
  const who = { agentId: self.agentId, agentName: self.name }
  switch (msg.type) {
    case 'call-request':
      return { type: 'call_request', roomId, ...who, topic: msg.topic }
    case 'call-accept':
      return { type: 'call_accepted', roomId, ...who }
    case 'call-reject':
      return { type: 'call_rejected', roomId, ...who, reason: msg.reason }
    case 'message':
      return { type: 'room_message', roomId, sender: self.name, content: msg.text }
    case 'file-chunk': {
      const c = msg.chunk
      if (c.total !== 1) return null
      return { type: 'room_file', roomId, sender: self.name, filename: c.name, content: c.data, mimeType: 'application/octet-stream' }
    }
    case 'escalation':
      return { type: 'escalate', roomId, fromAgent: self.agentId, message: msg.reason }
    case 'call-end':
      return { type: 'end_call', roomId, reason: 'ended_by_peer' }
  }
}

const text = (value: unknown, max: number): string | null => (typeof value === 'string' && value.length <= max ? value : null)

/** Reads the JSON of an original-skill DM (`id`: its event id, which names a file it carries);
 *  null when it is malformed or not one of its messages. `origin` (v0.3) is not needed: the
 *  signer's key says who sent it. */
export function parseLegacy(plaintext: string, id: string): P2PMessage | null {
  let data: Record<string, unknown>
  try {
    data = JSON.parse(plaintext)
  } catch {
    return null
  }
  if (!data || typeof data !== 'object') return null
  const callId = callIdOfRoom(data.roomId)
  if (!callId) return null
  switch (data.type) {
    case 'call_request': {
      const topic = text(data.topic ?? '', MAX_TOPIC)
      const name = singleLine(data.agentName, MAX_NAME)
      return topic === null ? null : { type: 'call-request', callId, topic, ...(name ? { name } : {}) }
    }
    case 'call_accepted':
      return { type: 'call-accept', callId }
    case 'call_rejected': {
      const reason = text(data.reason ?? '', MAX_REASON)
      return reason === null ? null : { type: 'call-reject', callId, reason }
    }
    case 'room_message': {
      const content = typeof data.content === 'string' && Buffer.byteLength(data.content) <= MAX_MESSAGE_BYTES ? data.content : null
      return content === null ? null : { type: 'message', callId, text: content }
    }
    case 'room_file': {
      // whole in one DM: as large as one event carries, not held to one of our chunks
      const { content, filename } = data
      if (typeof content !== 'string' || content.length > MAX_NIP04_PLAINTEXT || !isBase64(content)) return null
      if (typeof filename !== 'string' || !isSafeFileName(filename)) return null
      const bytes = Buffer.from(content, 'base64')
      if (bytes.length > MAX_LEGACY_FILE_IN) return null
      const chunk = { fileId: id, name: filename, size: bytes.length, sha256: sha256Hex(bytes), index: 0, total: 1, data: content }
      return { type: 'file-chunk', callId, chunk }
    }
    case 'escalate': {
      const reason = text(data.message ?? '', MAX_REASON)
      return reason === null ? null : { type: 'escalation', callId, reason }
    }
    case 'end_call':
      return { type: 'call-end', callId }
  }
  return null
}

/** The kind 4 DM carrying `payload` to `peer`, signed by us. */
export function legacyDm(payload: Record<string, unknown>, secretKey: Uint8Array, peer: string, now: number, sign: Sign): Event {
  const template: EventTemplate = {
    kind: LEGACY_DM_KIND,
    created_at: now,
    tags: [['p', peer]],
    content: encrypt(JSON.stringify(payload), secretKey, peer),
  }
  return sign(template, secretKey)
}

/** Opens the original skill's DMs to `me` (their signatures checked by the pool), as
 *  nip17.ts opens gift wraps; drops, with a line for --verbose, what does not decrypt or is not
 *  one of its messages. */
export function openLegacyDms(events: Event[], me: string, secretKey: Uint8Array, log: (line: string) => void): Opened[] {
  return events.flatMap((event) => {
    try {
      return [{ wrapId: event.id, wrapCreatedAt: event.created_at, legacy: true as const, ...openLegacyDm(event, secretKey, me) }]
    } catch (err) {
      log(`dropped NIP-04 DM ${event.id.slice(0, 12)}: ${(err as Error).message}`)
      return []
    }
  })
}

/** Opens a kind 4 DM to `me` (its signature checked already) into a rumor-shaped record of what
 *  it says, and the message; throws on anything that is not an original-skill message to us. */
export function openLegacyDm(event: Event, secretKey: Uint8Array, me: string): { rumor: Rumor; msg: P2PMessage } {
  if (event.kind !== LEGACY_DM_KIND || !event.tags.some((t) => t[0] === 'p' && t[1] === me)) throw new Error('not a DM to us')
  const plaintext = decrypt(event.content, secretKey, event.pubkey)
  const msg = parseLegacy(plaintext, event.id)
  if (!msg) throw new Error('not a message of the original skill')
  const rumor: Rumor = {
    id: event.id,
    pubkey: event.pubkey,
    created_at: event.created_at,
    kind: event.kind,
    tags: event.tags,
    content: plaintext,
  }
  return { rumor, msg }
}
