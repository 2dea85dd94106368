// Runs one command: builds its context, maps failures to the contract's exit codes and
// output, and makes sure the process ends.
import { createOutput } from './output.ts'
import { createContext, type Context, type GlobalOptions } from './context.ts'
import { toP2PError, EXIT, usageError, type CommandResult, type P2PError } from './errors.ts'

export async function runCommand(opts: GlobalOptions, command: (ctx: Context) => CommandResult): Promise<void> {
  // everything we create under P2P_HOME is private: files 0600, folders 0700
  process.umask(0o077)
  const out = createOutput(opts)
  try {
    const code = await command(createContext(opts, out))
    process.exitCode = code ?? EXIT.ok
  } catch (err) {
    report(opts, err)
  }
}

export function report(opts: GlobalOptions, err: unknown): void {
  const error: P2PError = toP2PError(err)
  createOutput(opts).error(error)
  if (error.exitCode === EXIT.internal && opts.verbose && err instanceof Error) process.stderr.write(`${err.stack}\n`)
  process.exitCode = error.exitCode
}

/** A typo in a command name gets the nearest real one as its hint. */
export function unknownCommand(message: string, commands: string[]): P2PError {
  const typed = /Unknown (?:argument|command)s?: (\S+)/.exec(message)?.[1]?.replace(/,$/, '')
  const nearest = typed ? commands.map((c) => [c, distance(typed, c)] as const).sort((a, b) => a[1] - b[1])[0] : undefined
  const hint = nearest && nearest[1] <= 2 ? `did you mean \`node p2p.js ${nearest[0]}\`?` : 'run `node p2p.js --help` to see the commands'
  return usageError('bad-usage', message, hint)
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]
}

/** Every socket is closed on the way out; should anything still hold the process open, end it. */
export function exitSoon(opts: GlobalOptions): void {
  setTimeout(() => {
    if (opts.verbose) process.stderr.write('warning: a handle was still open at the end; exiting anyway\n')
    process.exit()
  }, 500).unref()
}
