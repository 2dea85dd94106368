// Runs one command: builds its context, maps failures to the contract's exit codes and
// output, and makes sure the process ends.
import type { CommandResult, FailureKind } from '../errors.ts'
import { type Context, createContext, type GlobalOptions } from '../session/context.ts'
import { EXIT_FALLBACK_MS } from '../timing.ts'
import { createOutput } from '../ui/output.ts'
import { withHint } from './hints.ts'

/** The contract's exit codes (CLI.md). */
const EXIT: Record<'ok' | FailureKind, number> = { ok: 0, internal: 1, usage: 2, state: 3, network: 4 }

export async function runCommand(opts: GlobalOptions, command: (ctx: Context) => CommandResult): Promise<void> {
  // everything we create under P2P_HOME is private: files 0600, folders 0700
  process.umask(0o077)
  const out = createOutput(opts)
  try {
    const failure = await command(createContext(opts, out))
    process.exitCode = EXIT[failure ?? 'ok']
  } catch (err) {
    // the run's own output: what it could not read (warnings) goes into the error's document too
    report(opts, err, out)
  } finally {
    // with --verbose: how long the run took, from its start (Node's own start-up not counted)
    out.log(`done: exit ${process.exitCode ?? 0}`)
  }
}

export function report(opts: GlobalOptions, err: unknown, out = createOutput(opts)): void {
  const error = withHint(err)
  out.error(error)
  if (error.kind === 'internal' && opts.verbose && err instanceof Error) process.stderr.write(`${err.stack}\n`)
  process.exitCode = EXIT[error.kind]
}

/** Every socket is closed on the way out; should anything still hold the process open, end it,
 *  but never while output is still on its way to a slow reader (that would cut it short). */
export function exitSoon(opts: GlobalOptions): void {
  const check = () => {
    if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) {
      setTimeout(check, EXIT_FALLBACK_MS).unref()
      return
    }
    if (opts.verbose) process.stderr.write('warning: a handle was still open at the end; exiting anyway\n')
    process.exit()
  }
  setTimeout(check, EXIT_FALLBACK_MS).unref()
}
