// File transfer, both ways: a file is split into chunk rumors that each fit one gift wrap, and
// received chunks are kept under `p2p-files/.partial` until the whole file is there and its
// SHA-256 matches; then it is saved under its call's folder.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Incoming } from '../calls/machine.ts'
import { sha256Hex } from '../encoding.ts'
import { CHUNK_BYTES } from '../limits.ts'
import type { Opened } from '../nostr/nip17.ts'
import { chunkCount, type FileChunk, type Rumor, rumorMs } from '../nostr/p2p.ts'
import { writeAtomic } from '../store/home.ts'
import type { FileInfo, State } from '../store/schema.ts'
import { PARTIAL_FILE_TTL_S, unixNow } from '../timing.ts'
import type { Context } from './context.ts'
import { rumorFor } from './deliver.ts'

/** Splits a file into chunk rumors, all stamped with the same time. */
export function fileRumors(
  ctx: Context,
  peer: string,
  callId: string,
  file: { fileId: string; name: string; data: Buffer; sha256?: string },
  at = unixNow(),
  ms = at * 1000,
): Rumor[] {
  const sha256 = file.sha256 ?? sha256Hex(file.data)
  const total = chunkCount(file.data.length)
  return Array.from({ length: total }, (_, index) => {
    const data = file.data.subarray(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES).toString('base64')
    const chunk = { fileId: file.fileId, name: file.name, size: file.data.length, sha256, index, total, data }
    return rumorFor(ctx, peer, { type: 'file-chunk', callId, chunk }, at, ms)
  })
}

/** Turns opened rumors into what the state machine sees: file chunks of live calls are stored,
 *  and each file whose chunks are all there becomes one `file` item; other rumors pass as they are. */
export function receiveFiles(filesDir: string, opened: Opened[], state: State, log: (line: string) => void): Incoming[] {
  if (opened.some((o) => o.msg.type === 'file-chunk')) dropStalePartials(join(filesDir, '.partial'), log)
  const items: Incoming[] = []
  for (const { rumor, msg, wrapId } of opened) {
    const base = { from: rumor.pubkey, at: rumor.created_at, ms: rumorMs(rumor) }
    if (msg.type !== 'file-chunk') {
      items.push({ ...base, id: rumor.id, wrapId, msg })
      continue
    }
    const call = state.calls[msg.callId]
    if (!call || call.peer !== rumor.pubkey || !(call.state === 'active' || call.state === 'ringing')) {
      log(`dropped file chunk for call ${msg.callId}: not a live call with its sender`)
      continue
    }
    const file = storeChunk(filesDir, msg.callId, msg.chunk, log)
    if (file) items.push({ ...base, id: msg.chunk.fileId, msg: { type: 'file', callId: msg.callId, fileId: msg.chunk.fileId, file } })
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
  const sha256 = sha256Hex(data)
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
    if (Date.now() - statSync(path).mtimeMs < PARTIAL_FILE_TTL_S * 1000) continue
    rmSync(path, { recursive: true, force: true })
    log(`dropped the chunks of unfinished file ${fileId}: none came for ${PARTIAL_FILE_TTL_S / 86_400} days`)
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
