// Where everything the tool keeps lives: $P2P_HOME, default ~/.openclaw (CLI.md).
import { accessSync, constants, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { usageError } from '../errors.ts'

export interface HomePaths {
  dir: string
  identity: string
  config: string
  state: string
  lock: string
  transcripts: string
  /** each call's message log (store/calllog.ts) */
  calls: string
  /** the ids already taken, one file per state written (store/known-ids.ts) */
  known: string
  files: string
}

export function homePaths(env: NodeJS.ProcessEnv = process.env): HomePaths {
  const dir = resolve(env.P2P_HOME || join(homedir(), '.openclaw'))
  return {
    dir,
    identity: join(dir, 'p2p-identity.json'),
    config: join(dir, 'p2p-config.json'),
    state: join(dir, 'p2p-state.json'),
    lock: join(dir, 'p2p-state.lock'),
    transcripts: join(dir, 'p2p-transcripts'),
    calls: join(dir, 'p2p-calls'),
    known: join(dir, 'p2p-known'),
    files: join(dir, 'p2p-files'),
  }
}

/** Creates the folder (0700) if missing and checks we can write in it. */
export function ensureHome(paths: HomePaths): void {
  try {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 })
    accessSync(paths.dir, constants.W_OK | constants.X_OK)
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err)
    throw usageError('home-unwritable', `cannot use ${paths.dir} as the p2p home (${reason})`)
  }
}

/** Writes a file under the home through a temp file and a rename: readers never see half of it.
 *  The temp file is created afresh (never written through a link) and never left behind, even
 *  when the write fails part way (a full disk). */
export function writeAtomic(path: string, data: string | Buffer): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  try {
    writeFileSync(tmp, data, { flag: 'wx' })
    renameSync(tmp, path)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
}
