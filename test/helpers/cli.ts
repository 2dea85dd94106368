// Runs the built CLI (p2p.js) as a child process, as an agent's bash tool would.

import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const CLI = resolve(import.meta.dirname, '../../p2p.js')

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
  ms: number
  json<T = any>(): T
}

export function tempHome(prefix = 'p2p-home-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export interface RunOptions {
  env?: Record<string, string>
  stdin?: string
  /** the largest file the run may write (RLIMIT_FSIZE, in whole 512-byte blocks): a write past
   *  it fails part way, with EFBIG, as a write to a full disk does with ENOSPC */
  maxFileBytes?: number
}

export interface Agent {
  home: string
  run(args: string[], opts?: RunOptions): Promise<RunResult>
}

/** What every agent runs with unless a test sets its own: automatic replies (busy, declined by
 *  policy) get the run's whole deadline, not their 1 s budget. That budget guards against a
 *  flood of callers and is tested on its own (replies.test.ts, sending.test.ts); on a loaded
 *  machine a busy decline that missed its second failed tests about something else. */
/** What every CLI run of the tests has in its environment: no default indexers (they cannot be
 *  reached here, and failing to resolve their names takes as long as the machine's load makes it:
 *  seen up to 2 s, which cut retries and left DNS requests open at exit) */
export const HERMETIC = { P2P_TEST_NO_INDEXERS: '1' }
const TEST_TIMINGS = { ...HERMETIC, P2P_TEST_AUTO_REPLY_MS: '600000' }

/** An agent with its own P2P_HOME, using `relays` unless a call names others; `cli`: the
 *  script it runs (the built p2p.js of this tree by default). */
export function agent(relays: string[], home = tempHome(), cli = CLI): Agent {
  const env = { ...TEST_TIMINGS, P2P_HOME: home, P2P_RELAYS: relays.join(',') }
  return {
    home,
    run: (args, opts = {}) => runCli(args, { ...env, ...opts.env }, opts.stdin, undefined, cli, opts.maxFileBytes),
  }
}

/** How long a run given --verbose took by its own clock (its "done" line): Node's start-up on a
 *  loaded machine is no part of a command's deadline. */
export function workedMs(r: RunResult): number {
  const done = /\[\s*(\d+) ms\] done: exit/.exec(r.stderr)
  if (!done) throw new Error(`no "done" line: was the run given --verbose?\n${r.stderr}`)
  return Number(done[1])
}

/** The same agent, with `env` added to every run (a test-only timing, say). */
export const withEnv = (a: Agent, env: Record<string, string>): Agent => ({
  home: a.home,
  run: (args, opts = {}) => a.run(args, { ...opts, env: { ...env, ...opts.env } }),
})

export function runCli(
  args: string[],
  env: Record<string, string>,
  stdin?: string,
  killAfterMs = 20_000,
  cli = CLI,
  maxFileBytes?: number,
): Promise<RunResult> {
  const started = Date.now()
  const argv = [process.execPath, cli, ...args]
  // Node ignores SIGXFSZ, so the write over the limit fails (EFBIG) instead of killing the run
  const limited =
    maxFileBytes === undefined ? argv : ['/bin/sh', '-c', `ulimit -f ${Math.floor(maxFileBytes / 512)} && exec "$@"`, 'sh', ...argv]
  return new Promise((resolvePromise, reject) => {
    const child = spawn(limited[0], limited.slice(1), {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(killer)
      resolvePromise({
        code,
        stdout,
        stderr,
        ms: Date.now() - started,
        json: () => {
          try {
            return JSON.parse(stdout)
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`)
          }
        },
      })
    })
    child.stdin.end(stdin ?? '')
  })
}

/** A hook for `poll --exec`, which runs a program without a shell: `body` as an executable
 *  shell script in `dir`; returns its path. */
export function hookScript(dir: string, name: string, body: string): string {
  const path = join(dir, name)
  writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 })
  return path
}
