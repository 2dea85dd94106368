// File transfer, both ways: a file is split into chunk rumors that each fit one gift wrap, and
// received chunks are kept under `p2p-files/.partial` (partial.ts) until the whole file is there
// and its SHA-256 matches; then it is saved under its call's folder, beside, never over, the
// files already there.
import { constants, copyFileSync, linkSync, lstatSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Incoming } from '../calls/inputs.ts'
import { takesTalk } from '../calls/queries.ts'
import { randomHex, sha256Hex } from '../encoding.ts'
import { CHUNK_BYTES, MAX_SAME_NAME } from '../limits.ts'
import type { Opened } from '../nostr/nip17.ts'
import { chunkCount, type P2PMessage, type Rumor, rumorMs } from '../nostr/p2p.ts'
import { type HomePaths, ownDir } from '../store/home.ts'
import type { State } from '../store/schema.ts'
import { PARTIAL_CLAIM_STALE_MS, unixNow } from '../timing.ts'
import type { Output } from '../ui/output.ts'
import type { Context } from './context.ts'
import { rumorFor } from './deliver.ts'
import { dropStalePartials, storeChunk } from './partial.ts'

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

/** A file as the original skill's agents send it: whole, in one message (`room_file`). */
export function wholeFile(callId: string, file: { fileId: string; name: string; data: Buffer; sha256?: string }): P2PMessage {
  const { fileId, name, data } = file
  const chunk = {
    fileId,
    name,
    size: data.length,
    sha256: file.sha256 ?? sha256Hex(data),
    index: 0,
    total: 1,
    data: data.toString('base64'),
  }
  return { type: 'file-chunk', callId, chunk }
}

/** Where files go: `p2p-files` in the home, never through a link out of it. */
type FilePaths = Pick<HomePaths, 'dir' | 'files'>

/** Turns opened rumors into what the state machine sees: file chunks of live calls (or sent
 *  before the call's end) are stored, and each file whose chunks are all there becomes one
 *  `file` item; other rumors pass as they are. A file that cannot be stored or saved is reported
 *  (`warn`) and skipped: it never stops the sync. */
export function receiveFiles(paths: FilePaths, opened: Opened[], state: State, out: Pick<Output, 'log' | 'warn'>): Incoming[] {
  const partials = join(paths.files, '.partial')
  if (opened.some((o) => o.msg.type === 'file-chunk')) dropStalePartials(paths.dir, partials, out.log)
  const items: Incoming[] = []
  const over = new Set<string>() // files saved or failed in this run: their other chunks are not needed
  for (const { rumor, msg, wrapId, legacy } of opened) {
    const base = { from: rumor.pubkey, at: rumor.created_at, ms: rumorMs(rumor), ...(legacy ? { legacy } : {}) }
    if (msg.type !== 'file-chunk') {
      items.push({ ...base, id: rumor.id, wrapId, msg })
      continue
    }
    const { callId, chunk } = msg
    const call = state.calls[callId]
    if (!call || call.peer !== rumor.pubkey || !takesTalk(call, rumor.created_at)) {
      out.log(`dropped file chunk for call ${callId}: not a live call with its sender, or sent after its end`)
      continue
    }
    if (over.has(chunk.fileId) || state.rumorIds.has(chunk.fileId)) continue
    const save = (data: Buffer) => saveFile(paths, callId, chunk.fileId, chunk.name, data)
    try {
      const file = storeChunk(paths.dir, partials, callId, chunk, save, out.log)
      if (!file) continue
      over.add(chunk.fileId)
      items.push({ ...base, id: chunk.fileId, msg: { type: 'file', callId, fileId: chunk.fileId, file } })
    } catch (err) {
      over.add(chunk.fileId)
      out.warn(`could not save file ${chunk.name} (${chunk.fileId}) in call ${callId}: ${(err as Error).message}`)
    }
  }
  return items
}

/** Saves a call's file as `<callId>/<name>`, never replacing a file already there (ours or
 *  another received one): then as `<fileId>-<name>`, then with a counter too. */
export function saveFile(paths: FilePaths, callId: string, fileId: string, name: string, data: Buffer): string {
  const dir = ownDir(paths.dir, join(paths.files, callId))
  dropStaleTemps(dir)
  const tmp = join(dir, `.${fileId}.${process.pid}.${randomHex(4)}.tmp`)
  try {
    // created, never opened through a link; removed below whatever happens (a full disk fails
    // this write part way)
    writeFileSync(tmp, data, { flag: 'wx' })
    for (let n = 0; n < MAX_SAME_NAME; n++) {
      const path = join(dir, n === 0 ? name : n === 1 ? `${fileId}-${name}` : `${fileId}-${n}-${name}`)
      try {
        placeAt(tmp, path)
        return path
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
    }
    throw new Error(`${MAX_SAME_NAME} files named ${name} are in ${dir} already`)
  } finally {
    rmSync(tmp, { force: true })
  }
}

/** Removes the temp files a run killed while saving left in `dir` (a run still writing one
 *  touched it within PARTIAL_CLAIM_STALE_MS). */
function dropStaleTemps(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!TEMP_NAME.test(name)) continue
    const path = join(dir, name)
    const stat = lstatSync(path, { throwIfNoEntry: false }) // another run may have removed it
    if (stat && Date.now() - stat.mtimeMs > PARTIAL_CLAIM_STALE_MS) rmSync(path, { force: true })
  }
}
const TEMP_NAME = /^\..+\.tmp$/

/** Puts the temp file at `path` unless `path` exists (EEXIST): a hard link, so the file appears
 *  whole; a copy on file systems without hard links. */
function placeAt(tmp: string, path: string): void {
  try {
    linkSync(tmp, path)
  } catch (err) {
    if (!NO_LINKS.includes((err as NodeJS.ErrnoException).code ?? '')) throw err
    copyFileSync(tmp, path, constants.COPYFILE_EXCL)
  }
}
const NO_LINKS = ['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']
