// Every failure the user can act on is a P2PError: a stable code, a message, a hint naming
// the next command to run, and the contract's exit code (CLI.md).

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  state: 3,
  network: 4,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** What a command returns: an exit code, or nothing for success. */
export type CommandResult = Promise<ExitCode | void>

export class P2PError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string,
    readonly exitCode: ExitCode,
  ) {
    super(message)
    this.name = 'P2PError'
  }
}

export const usageError = (code: string, message: string, hint: string) =>
  new P2PError(code, message, hint, EXIT.usage)

export const stateError = (code: string, message: string, hint: string) =>
  new P2PError(code, message, hint, EXIT.state)

export const networkError = (code: string, message: string, hint: string) =>
  new P2PError(code, message, hint, EXIT.network)

/** Anything that is not a P2PError is a bug: report it as such, with where to look. */
export function toP2PError(err: unknown): P2PError {
  if (err instanceof P2PError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new P2PError(
    'internal',
    `unexpected internal error: ${message}`,
    'run the same command again with --verbose and report the output',
    EXIT.internal,
  )
}
