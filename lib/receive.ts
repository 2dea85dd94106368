// The receiving edge: opens gift wraps, and turns file chunks into whole files on disk.
// Everything that fails a check is dropped and counted, never passed on.
import { mkdirSync, readFileSync, readdirSync, rmSync, existsSync, statSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import type { Event } from 'nostr-tools/pure'
import { openWrap, parseRumor, rumorMs, type FileChunk, type P2PMessage, type Rumor } from './dm.ts'
import type { Incoming } from './calls.ts'
import type { State, FileInfo } from './state.ts'
import { verifyAll } from './crypto/schnorr.ts'
import { writeAtomic } from './home.ts'
import { prepareBulk } from './crypto/nip44.ts'

export interface Opened {
  wrapId: string
  wrapCreatedAt: number
  rumor: Rumor
  msg: P2PMessage
}

/** Opens wraps addressed to us; drops what does not open, has a bad seal signature, is not
 *  for us, or is not understood. */
export async function openWraps(wraps: Event[], me: string, secretKey: Uint8Array, log: (line: string) => void): Promise<{ opened: Opened[]; dropped: number }> {
  const candidates: Array<Opened & { seal: Event }> = []
  let dropped = 0
  const drop = (wrap: Event, why: string) => {
    dropped++
    log(`dropped gift wrap ${wrap.id.slice(0, 12)}: ${why}`)
  }
  await prepareBulk(wraps.length)
  for (const wrap of wraps) {
    try {
      const { seal, rumor } = openWrap(wrap, secretKey)
      const recipients = rumor.tags.filter((t) => t[0] === 'p').map((t) => t[1])
      // a rumor names its recipient; our own copies (NIP-17) name the peer
      if (rumor.pubkey !== me && !recipients.includes(me)) throw new Error('rumor is not addressed to us')
      const msg = parseRumor(rumor)
      if (!msg) throw new Error(`rumor kind ${rumor.kind} not understood`)
      candidates.push({ wrapId: wrap.id, wrapCreatedAt: wrap.created_at, rumor, msg, seal })
    } catch (err) {
      drop(wrap, (err as Error).message)
    }
  }
  const valid = await verifyAll(candidates.map((c) => c.seal))
  const opened: Opened[] = []
  candidates.forEach(({ seal, ...c }, i) => (valid[i] ? opened.push(c) : drop({ id: c.wrapId } as Event, `the seal's signature is invalid (${seal.id.slice(0, 12)})`)))
  return { opened, dropped }
}

/** Chunks of a file not completed within this long are thrown away. */
const PARTIAL_TTL_MS = 3 * 24 * 3600 * 1000

/** Stores file chunks of live calls under `filesDir/.partial`, and assembles each file whose
 *  chunks are all there and whose SHA-256 matches. Returns what the state machine should see. */
export function collectFiles(filesDir: string, opened: Opened[], state: State, log: (line: string) => void): Incoming[] {
  if (opened.some((o) => o.msg.type === 'file-chunk')) dropStalePartials(join(filesDir, '.partial'), log)
  const items: Incoming[] = []
  for (const { rumor, msg, wrapId } of opened) {
    if (msg.type !== 'file-chunk') {
      items.push({ id: rumor.id, wrapId, from: rumor.pubkey, at: rumor.created_at, ms: rumorMs(rumor), msg })
      continue
    }
    const call = state.calls[msg.callId]
    if (!call || call.peer !== rumor.pubkey || !(call.state === 'active' || call.state === 'ringing')) {
      log(`dropped file chunk for call ${msg.callId}: not a live call with its sender`)
      continue
    }
    const file = storeChunk(filesDir, msg.callId, msg.chunk, log)
    if (file) items.push({ id: msg.chunk.fileId, from: rumor.pubkey, at: rumor.created_at, ms: rumorMs(rumor), msg: { type: 'file', callId: msg.callId, fileId: msg.chunk.fileId, file } })
  }
  return items
}

function storeChunk(filesDir: string, callId: string, chunk: FileChunk, log: (line: string) => void): FileInfo | null {
  const partial = join(filesDir, '.partial', chunk.fileId)
  mkdirSync(partial, { recursive: true })
  const metaPath = join(partial, 'meta.json')
  const meta = { callId, name: chunk.name, size: chunk.size, sha256: chunk.sha256, total: chunk.total }
  if (existsSync(metaPath)) {
    if (readFileSync(metaPath, 'utf8') !== JSON.stringify(meta)) {
      log(`dropped chunk of file ${chunk.fileId}: it disagrees with the file's other chunks`)
      return null
    }
  } else {
    writeAtomic(metaPath, JSON.stringify(meta))
  }
  writeAtomic(join(partial, String(chunk.index)), Buffer.from(chunk.data, 'base64'))
  const have = readdirSync(partial).filter((f) => /^\d+$/.test(f)).length
  if (have < chunk.total) return null

  const data = Buffer.concat(Array.from({ length: chunk.total }, (_, i) => readFileSync(join(partial, String(i)))))
  rmSync(partial, { recursive: true, force: true })
  const sha256 = createHash('sha256').update(data).digest('hex')
  if (data.length !== chunk.size || sha256 !== chunk.sha256) {
    log(`dropped file ${chunk.name}: its SHA-256 or size does not match what the sender announced`)
    return null
  }
  return { name: chunk.name, size: data.length, sha256, path: saveFile(filesDir, callId, chunk.fileId, chunk.name, data) }
}

function dropStalePartials(dir: string, log: (line: string) => void): void {
  if (!existsSync(dir)) return
  for (const fileId of readdirSync(dir)) {
    const path = join(dir, fileId)
    if (Date.now() - statSync(path).mtimeMs < PARTIAL_TTL_MS) continue
    rmSync(path, { recursive: true, force: true })
    log(`dropped the chunks of unfinished file ${fileId}: none came for 3 days`)
  }
}

/** Saves a call's file as `<callId>/<name>`; a different file of the same name gets the file id in front. */
export function saveFile(filesDir: string, callId: string, fileId: string, name: string, data: Buffer): string {
  const dir = join(filesDir, callId)
  mkdirSync(dir, { recursive: true })
  let path = join(dir, name)
  if (existsSync(path) && statSync(path).size !== data.length) path = join(dir, `${fileId}-${name}`)
  writeAtomic(path, data)
  return path
}
