// The p2p wire format between agents, on top of NIP-17: every message is a kind 14 rumor whose
// `content` is a sentence a person can read in any Nostr client, and whose ["p2p", type,
// callId, senderMs] tag (plus a few more, see TAG) carries what the machine needs. A rumor
// without a p2p tag is a plain DM, from a person or another client.
import { getEventHash, type UnsignedEvent } from 'nostr-tools/pure'
import { isBase64, isHex64 } from '../encoding.ts'
import {
  CHUNK_BYTES,
  MAX_CHUNK_BASE64,
  MAX_FILE_BYTES,
  MAX_FILE_CHUNKS,
  MAX_FILE_NAME_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_NAME,
  MAX_REASON,
  MAX_TOPIC,
} from '../limits.ts'
import { hasControlChars, singleLine } from '../sanitize.ts'
import { type PersonalDm, parseDm } from './dm.ts'
import { DM_KIND, findTag, TAG } from './kinds.ts'
import type { OwnerProof } from './owner-proof.ts'

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
  /** `name`: who calls, as it calls itself now (its announcement may be older, or not read) */
  | { type: 'call-request'; callId: string; topic: string; name?: string }
  | { type: 'call-accept'; callId: string }
  | { type: 'call-reject'; callId: string; reason: string }
  | { type: 'message'; callId: string; text: string }
  | { type: 'file-chunk'; callId: string; chunk: FileChunk }
  | { type: 'call-end'; callId: string }
  /** the sender handed a decision in this call to its human owner */
  | { type: 'escalation'; callId: string; reason: string }
  /** a message of the sender's owner, shown with what lets us check it (owner-proof.ts);
   *  `sealSigned` is set on receipt, once the seal's signature was checked */
  | { type: 'owner-proof'; callId: string; proof: OwnerProof; sealSigned?: boolean }
  /** a DM that is not part of the p2p protocol: from a person, or another client */
  | PersonalDm

const ID = /^[0-9a-f]{8,64}$/

/** A file name is kept only if it cannot point outside the folder it is saved in. */
export function isSafeFileName(name: string): boolean {
  return (
    name.length > 0 &&
    Buffer.byteLength(name) <= MAX_FILE_NAME_BYTES &&
    name !== '.' &&
    name !== '..' &&
    !/[/\\]/.test(name) &&
    !hasControlChars(name) &&
    !name.startsWith('.')
  )
}

export const chunkCount = (size: number): number => Math.max(1, Math.ceil(size / CHUNK_BYTES))

/** The kind 14 rumor for a message from `from` to `to`. The p2p tag's fourth element is the
 *  send time in milliseconds: it orders messages sent within the same second. */
export function buildRumor(msg: P2PMessage, from: string, to: string, now: number, senderName: string, nowMs = Date.now()): Rumor {
  const tags: string[][] = [['p', to]]
  if (msg.type !== 'dm') tags.push([TAG.p2p, msg.type, msg.callId, String(nowMs)])
  let content: string
  switch (msg.type) {
    case 'call-request':
      tags.push([TAG.topic, msg.topic], ...(msg.name ? [[TAG.name, msg.name]] : []))
      content = `📞 ${senderName} asks for a call about "${msg.topic}" (call ${msg.callId}). Agents answer with \`node p2p.js answer accept\`.`
      break
    case 'call-accept':
      content = `✅ ${senderName} accepted call ${msg.callId}.`
      break
    case 'call-reject':
      tags.push([TAG.reason, msg.reason])
      content = `❌ ${senderName} declined call ${msg.callId}${msg.reason ? `: ${msg.reason}` : '.'}`
      break
    case 'message':
      content = msg.text
      break
    case 'file-chunk': {
      const c = msg.chunk
      tags.push([TAG.file, c.fileId, c.name, String(c.size), c.sha256, String(c.index), String(c.total)], [TAG.data, c.data])
      content = `📎 File "${c.name}" (${c.size} bytes), part ${c.index + 1} of ${c.total}.`
      break
    }
    case 'call-end':
      content = `👋 ${senderName} ended call ${msg.callId}.`
      break
    case 'escalation':
      tags.push([TAG.reason, msg.reason])
      content = `🙋 ${senderName} handed a decision in call ${msg.callId} to a human: ${msg.reason}`
      break
    case 'owner-proof':
      tags.push([TAG.seal, JSON.stringify(msg.proof.seal)], [TAG.keys, msg.proof.keys])
      if (msg.proof.question) tags.push([TAG.question, JSON.stringify(msg.proof.question)])
      content = `🔏 ${senderName} shows a message from its owner in call ${msg.callId}, sealed by the owner's key (p2p-comm checks it).`
      break
    case 'dm':
      content = msg.text
      break
  }
  const rumor = { kind: DM_KIND, pubkey: from, created_at: now, tags, content }
  return { ...rumor, id: getEventHash(rumor) }
}

/** Reads a rumor; null when it is malformed or not something we understand. */
export function parseRumor(rumor: Rumor): P2PMessage | null {
  const p2p = findTag(rumor, TAG.p2p)
  if (!p2p) return parseDm(rumor)
  if (rumor.kind !== DM_KIND || typeof rumor.content !== 'string') return null
  const [, type, callId] = p2p
  if (typeof callId !== 'string' || !ID.test(callId)) return null
  switch (type) {
    case 'call-request': {
      const topic = findTag(rumor, TAG.topic)?.[1]
      const name = singleLine(findTag(rumor, TAG.name)?.[1], MAX_NAME)
      return typeof topic === 'string' && topic.length <= MAX_TOPIC ? { type, callId, topic, ...(name ? { name } : {}) } : null
    }
    case 'call-accept':
    case 'call-end':
      return { type, callId }
    case 'call-reject':
    case 'escalation': {
      const reason = findTag(rumor, TAG.reason)?.[1] ?? ''
      return typeof reason === 'string' && reason.length <= MAX_REASON ? { type, callId, reason } : null
    }
    case 'message':
      return Buffer.byteLength(rumor.content) <= MAX_MESSAGE_BYTES ? { type, callId, text: rumor.content } : null
    case 'owner-proof': {
      const [seal, question] = [findTag(rumor, TAG.seal)?.[1], findTag(rumor, TAG.question)?.[1]].map(parseJson)
      const keys = findTag(rumor, TAG.keys)?.[1]
      if (!seal || typeof keys !== 'string') return null
      return { type, callId, proof: { seal, keys, ...(question ? { question } : {}) } }
    }
    case 'file-chunk': {
      const chunk = parseChunk(findTag(rumor, TAG.file), findTag(rumor, TAG.data))
      return chunk ? { type, callId, chunk } : null
    }
  }
  return null
}

/** A JSON object from a tag; undefined when it is none (checked further by owner-proof.ts). */
function parseJson(text: string | undefined) {
  try {
    const value = typeof text === 'string' ? JSON.parse(text) : undefined
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined
  } catch {
    return undefined
  }
}

function parseChunk(file: string[] | undefined, data: string[] | undefined): FileChunk | null {
  if (!file || !data) return null
  const [, fileId, name, sizeText, sha256, indexText, totalText] = file
  const [size, index, total] = [Number(sizeText), Number(indexText), Number(totalText)]
  return checkChunk({ fileId, name, size, sha256, index, total, data: data[1] })
}

/** The chunk, when every field is what a chunk needs; else null. */
export function checkChunk(chunk: FileChunk): FileChunk | null {
  const { fileId, name, size, sha256, index, total } = chunk
  const valid =
    typeof fileId === 'string' &&
    ID.test(fileId) &&
    typeof name === 'string' &&
    isSafeFileName(name) &&
    Number.isInteger(size) &&
    size >= 0 &&
    size <= MAX_FILE_BYTES &&
    isHex64(sha256) &&
    Number.isInteger(total) &&
    total <= MAX_FILE_CHUNKS &&
    total === chunkCount(size) &&
    Number.isInteger(index) &&
    index >= 0 &&
    index < total &&
    isBase64(chunk.data) &&
    chunk.data.length <= MAX_CHUNK_BASE64
  return valid ? chunk : null
}

/** The sender's millisecond clock from the p2p tag, 0 when absent. */
export function rumorMs(rumor: Rumor): number {
  const ms = Number(findTag(rumor, TAG.p2p)?.[3])
  return Number.isSafeInteger(ms) && ms > 0 ? ms : 0
}
