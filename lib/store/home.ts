// Where everything the tool keeps lives: $P2P_HOME, default ~/.openclaw (CLI.md).
import { accessSync, constants, lstatSync, mkdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, dirname, join, resolve, sep } from 'node:path'
import { stateError, usageError } from '../errors.ts'

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

/** A link where the tool writes: refused, with the command that replaces it (`fix`). */
export const linkRefused = (link: string, why: string, fix: string) =>
  stateError(
    'home-link',
    `${link} is a link that ${why}: p2p-comm never writes or deletes through one`,
    `replace the link with one of its own: move out what you need, then \`${fix}\``,
  )

/** `dir` below the home, created if missing (0700), once it is certain to lie inside the home:
 *  the tool writes and deletes only there, so a link on the way that leads out of it (a folder
 *  of the home replaced by a link to another one) is refused, before anything is created. */
export function ownDir(home: string, dir: string): string {
  const base = realpathSync.native(home)
  const check = (real: string | undefined) => {
    if (real !== undefined && (real === base || real.startsWith(base + sep))) return
    const link = outermostLink(home, dir)
    throw linkRefused(link, `leads out of the p2p home ${home} (to ${real ?? 'nowhere'})`, `rm ${link} && mkdir ${link}`)
  }
  check(resolved(dir))
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  check(resolved(dir)) // the same, unless a link appeared meanwhile
  return dir
}

/** Where `path` is for real: its nearest existing ancestor resolved, the rest as it is;
 *  undefined when a link on the way leads nowhere. */
function resolved(path: string): string | undefined {
  try {
    return realpathSync.native(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (lstatSync(path, { throwIfNoEntry: false })) return undefined // there, yet it resolves nowhere
  const up = dirname(path) === path ? path : resolved(dirname(path))
  return up === undefined ? undefined : join(up, basename(path))
}

/** The link nearest the home on the way from it to `dir` (`dir` when none is found). */
function outermostLink(home: string, dir: string): string {
  let link = dir
  for (let path = dir; path.startsWith(home + sep); path = dirname(path)) {
    if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) link = path
  }
  return link
}
