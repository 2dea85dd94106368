// `poll --exec`: the hook, a program and its arguments run without a shell once per new event,
// in a process group of its own so that a timeout kills everything it started (a child left behind would hold poll's
// stderr open, and whoever reads it would wait). A hook killed or timed out is run again by the
// next poll, MAX_HOOK_ATTEMPTS times in all; then the event counts as handled, and poll says so.
import { spawn } from 'node:child_process'
import { usageError } from '../errors.ts'
import { MAX_HOOK_ATTEMPTS } from '../limits.ts'
import type { Context } from '../session/context.ts'
import type { JournalEntry, P2PEvent } from '../store/schema.ts'
import { HOOK_TIMEOUT_MS } from '../timing.ts'

export interface HookRun {
  event: P2PEvent
  /** the hook's exit status; null when it was killed or timed out */
  status: number | null
  error?: string
  /** runs for this event that were killed or timed out, this one included */
  attempts?: number
  /** killed too often: not run again, the event counts as handled */
  gaveUp?: true
}

/** Signals that end poll, passed on to a running hook's group (it is not in ours any more). */
const ENDING = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/** What no shell reads here, so the hook is refused rather than run with these as plain text:
 *  pipes, redirections, lists, variables, substitutions, globs, `~` and escapes belong in a script. */
const SHELL_SYNTAX = /[|&;<>()$`\\*?[\]{}~#\n]/

/** The hook's program and its arguments: words split on spaces, '…' and "…" keeping theirs
 *  (nothing is special inside quotes but the closing one). No shell reads it (issue 27, point 8:
 *  a hook run through a shell is what a skill scanner flags), so shell syntax outside quotes is
 *  refused, not passed on as words. */
export function hookCommand(line: string): string[] {
  const words: string[] = []
  let word: string | undefined
  let quote: string | undefined
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = undefined
      else word += c
    } else if (c === "'" || c === '"') {
      quote = c
      word ??= ''
    } else if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word)
      word = undefined
    } else if (SHELL_SYNTAX.test(c)) {
      throw usageError(
        'exec-shell-syntax',
        `--exec runs a program with its arguments, without a shell: "${c}" would mean nothing to it`,
        'put pipes, redirections and variables in a script and give its path: `chmod +x on-event.sh && node p2p.js poll --exec ./on-event.sh`',
      )
    } else word = (word ?? '') + c
  }
  if (quote) throw usageError('bad-exec', `--exec has an unclosed ${quote}`, 'e.g. `node p2p.js poll --exec "./on-event.sh --quiet"`')
  if (word !== undefined) words.push(word)
  if (!words.length || !words[0]) throw usageError('bad-exec', '--exec needs a program', 'e.g. `node p2p.js poll --exec ./on-event.sh`')
  return words
}

/** Runs the hook once per event, one after the other; one result per event. */
export async function runHooks(ctx: Context, command: string[], entries: JournalEntry[], events: P2PEvent[]): Promise<HookRun[]> {
  const results: HookRun[] = []
  for (const [i, event] of events.entries()) {
    const { status, error } = await runHook(command, event)
    if (status === 0) {
      results.push({ event, status })
      continue
    }
    const run: HookRun = { event, status, error }
    let next = 'the event stays in `node p2p.js history`'
    if (status === null) {
      run.attempts = (entries[i].hookKills ?? 0) + 1
      if (run.attempts >= MAX_HOOK_ATTEMPTS) run.gaveUp = true
      next = run.gaveUp
        ? `given up after ${run.attempts} attempts: the hook is not run again for it (it stays in \`node p2p.js history\`)`
        : `the next poll runs it again (attempt ${run.attempts} of ${MAX_HOOK_ATTEMPTS})`
    }
    results.push(run)
    ctx.out.warn(`warning: hook failed for ${event.type} event of call ${event.callId ?? '-'} (${error}); ${next}`)
  }
  return results
}

/** One run of the hook: the event's JSON on stdin, its output to our stderr. */
function runHook([program, ...args]: string[], event: P2PEvent): Promise<{ status: number | null; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn(program, args, {
      detached: true, // its own process group, which a timeout kills whole
      env: { ...process.env, P2P_EVENT_TYPE: event.type, P2P_CALL_ID: event.callId ?? '' },
      stdio: ['pipe', 2, 2], // the hook's output goes to stderr: stdout stays ours
    })
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL')
      } catch {} // gone already
    }
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      killGroup()
    }, HOOK_TIMEOUT_MS)
    // poll ended by a signal takes its hook along, as when the two shared a process group
    const pass = (signal: NodeJS.Signals) => {
      killGroup()
      process.kill(process.pid, signal)
    }
    for (const signal of ENDING) process.once(signal, pass)
    const done = (result: { status: number | null; error?: string }) => {
      clearTimeout(timer)
      for (const signal of ENDING) process.removeListener(signal, pass)
      resolve(result)
    }
    child.on('error', (err) => done({ status: null, error: err.message }))
    child.on('exit', (code, signal) =>
      done(
        timedOut
          ? { status: null, error: `killed after ${HOOK_TIMEOUT_MS / 1000} s` }
          : code === 0
            ? { status: 0 }
            : { status: code, error: `exit ${code ?? signal}` },
      ),
    )
    child.stdin?.on('error', () => {}) // a hook that does not read its stdin
    child.stdin?.end(JSON.stringify(event))
  })
}
