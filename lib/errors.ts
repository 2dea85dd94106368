// Every failure the user can act on is a P2PError: a stable code, a message, and what kind of
// failure it is. Layers below the command line state facts; the command line turns the kind
// into the contract's exit code and adds the hint naming the next command (lib/cli/hints.ts)
// where the thrower could not know it.

/** What went wrong, as the contract's exit codes distinguish it (CLI.md). */
export type FailureKind = 'internal' | 'usage' | 'state' | 'network'

export class P2PError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly kind: FailureKind,
    /** what to do next, when the thrower knows it better than the command line */
    readonly hint?: string,
  ) {
    super(message)
    this.name = 'P2PError'
  }
}

export const usageError = (code: string, message: string, hint?: string) => new P2PError(code, message, 'usage', hint)
export const stateError = (code: string, message: string, hint?: string) => new P2PError(code, message, 'state', hint)
export const networkError = (code: string, message: string, hint?: string) => new P2PError(code, message, 'network', hint)

/** What a command returns: nothing when it succeeded, else how the printed result failed. */
// biome-ignore lint/suspicious/noConfusingVoidType: a command that simply finishes returns nothing
export type CommandResult = Promise<FailureKind | void>
