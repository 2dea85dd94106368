// Received chunks on disk, safe when several runs receive the same file at once. Chunks wait in
// `.partial/<fileId>/` (each written atomically) until all are there; the run that creates
// `.partial/<fileId>.done` first (exclusively) assembles the file, checks it, saves it, writes
// what it saved into that record and removes the chunks. Other runs read the record instead of
// assembling again; a chunk written after the record was finished is removed by its writer.
import { existsSync, linkSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256Hex } from '../encoding.ts'
import type { FileChunk } from '../nostr/p2p.ts'
import { ownDir, writeAtomic } from '../store/home.ts'
import { stillRuns } from '../store/process.ts'
import type { FileInfo } from '../store/schema.ts'
import { PARTIAL_CLAIM_STALE_MS, PARTIAL_FILE_TTL_S } from '../timing.ts'

type Log = (line: string) => void
/** Saves a whole, checked file; returns its path. */
type Save = (data: Buffer) => string

const code = (err: unknown) => (err as NodeJS.ErrnoException).code

/** Stores one chunk under `partials` in the home `home`; returns the file once it is whole and
 *  saved (by this run or another). */
export function storeChunk(home: string, partials: string, callId: string, chunk: FileChunk, save: Save, log: Log): FileInfo | null {
  const dir = join(partials, chunk.fileId)
  const record = `${dir}.done`
  if (existsSync(record) && !dropStaleClaim(record, log)) return finished(record, callId, chunk, log)
  let have: number
  try {
    have = writeChunk(home, dir, callId, chunk, log)
  } catch (err) {
    // a run that assembled the file removed the folder under our feet
    if (code(err) === 'ENOENT') return finished(record, callId, chunk, log)
    throw err
  }
  if (have < 0) return null
  if (existsSync(record)) {
    const file = finished(record, callId, chunk, log)
    if (file) removeDir(dir, log) // the assembler is done with the folder: what we wrote is litter
    return file
  }
  return have === chunk.total ? assemble(dir, record, callId, chunk, save, log) : null
}

/** Writes the chunk (and, once, what the file is); the number of chunks there, or -1 when the
 *  chunk disagrees with the file's other chunks. */
function writeChunk(home: string, dir: string, callId: string, chunk: FileChunk, log: Log): number {
  const meta = JSON.stringify({ callId, name: chunk.name, size: chunk.size, sha256: chunk.sha256, total: chunk.total })
  const metaPath = join(dir, 'meta.json')
  ownDir(home, dir)
  if (!existsSync(metaPath)) writeAtomic(metaPath, meta)
  else if (readFileSync(metaPath, 'utf8') !== meta) {
    log(`dropped chunk of file ${chunk.fileId}: it disagrees with the file's other chunks`)
    return -1
  }
  writeAtomic(join(dir, String(chunk.index)), Buffer.from(chunk.data, 'base64'))
  return readdirSync(dir).filter((f) => /^\d+$/.test(f)).length
}

/** Claims the file by creating its record, then assembles, checks and saves it. */
function assemble(dir: string, record: string, callId: string, chunk: FileChunk, save: Save, log: Log): FileInfo | null {
  // the claim names its run, and appears whole (a hard link is created exclusively): a run killed
  // while assembling leaves a claim that the next run recognises as stale
  const tmp = `${record}.${process.pid}.${Date.now()}.tmp`
  try {
    writeFileSync(tmp, JSON.stringify({ claim: { pid: process.pid, at: Date.now() } }), { flag: 'wx' })
    linkSync(tmp, record)
  } catch (err) {
    if (code(err) === 'EEXIST') return finished(record, callId, chunk, log)
    throw err
  } finally {
    rmSync(tmp, { force: true })
  }
  let file: FileInfo | null = null
  try {
    const data = Buffer.concat(Array.from({ length: chunk.total }, (_, i) => readFileSync(join(dir, String(i)))))
    const sha256 = sha256Hex(data)
    if (data.length !== chunk.size || sha256 !== chunk.sha256) {
      log(`dropped file ${chunk.name}: its SHA-256 or size does not match what the sender announced`)
      return null
    }
    file = { name: chunk.name, size: data.length, sha256, path: save(data) }
    writeAtomic(record, JSON.stringify({ callId, file }))
    return file
  } finally {
    if (!file) rmSync(record, { force: true }) // not saved: no record of it
    removeDir(dir, log)
  }
}

/** Removes a claim whose run is gone (killed while assembling); true when it did. */
function dropStaleClaim(record: string, log: Log): boolean {
  let claim: { pid: number; at: number } | undefined
  try {
    claim = JSON.parse(readFileSync(record, 'utf8')).claim
  } catch (err) {
    if (code(err) === 'ENOENT') return false
    claim = { pid: 0, at: 0 } // an empty claim, as older versions left: its run is long gone
  }
  if (!claim || (stillRuns(claim.pid) && claim.at > Date.now() - PARTIAL_CLAIM_STALE_MS)) return false
  rmSync(record, { force: true })
  log(`${record}: the run that was saving this file is gone; saving it again`)
  return true
}

/** What another run saved of this file; null while it is still at work, or if it gave up. */
function finished(record: string, callId: string, chunk: FileChunk, log: Log): FileInfo | null {
  let done: { callId: string; file: FileInfo } | undefined
  try {
    done = JSON.parse(readFileSync(record, 'utf8'))
  } catch {
    log(`chunk of file ${chunk.fileId}: another run is saving the file, or dropped it`)
    return null
  }
  if (done?.callId === callId) return done.file
  log(`dropped chunk of file ${chunk.fileId}: its id was used in another call`)
  return null
}

function removeDir(dir: string, log: Log): void {
  try {
    // a chunk another run writes meanwhile makes rmdir fail with ENOTEMPTY: retried
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 10 })
  } catch (err) {
    log(`could not remove ${dir}: ${(err as Error).message}`)
  }
}

/** Removes chunks and records untouched for PARTIAL_FILE_TTL_S (a file that never became whole):
 *  only when `dir` lies in the home `home`, not through a link out of it. */
export function dropStalePartials(home: string, dir: string, log: Log): void {
  let entries: string[]
  try {
    entries = existsSync(dir) ? readdirSync(ownDir(home, dir)) : []
  } catch (err) {
    log(`unfinished files: ${(err as Error).message}`) // reported when a chunk cannot be stored
    return
  }
  for (const entry of entries) {
    const path = join(dir, entry)
    const stat = statSync(path, { throwIfNoEntry: false }) // another run may have removed it
    if (!stat || Date.now() - stat.mtimeMs < PARTIAL_FILE_TTL_S * 1000) continue
    removeDir(path, log)
    log(`dropped ${entry} from the unfinished files: untouched for ${PARTIAL_FILE_TTL_S / 86_400} days`)
  }
}
