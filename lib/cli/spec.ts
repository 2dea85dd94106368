// What a command's entry in the tables says (commands.ts, records.ts): its arguments, options,
// examples and the module that runs it (loaded only when that command runs).
import type { Options, PositionalOptions } from 'yargs'
import type { CommandResult } from '../errors.ts'
import type { Context } from '../session/context.ts'

export type Args = Record<string, unknown>

export interface CommandSpec {
  /** yargs syntax: name, then <required> and [optional] positionals */
  usage: string
  describe: string
  positionals?: Record<string, PositionalOptions>
  options?: Record<string, Options>
  examples: Array<[command: string, what: string]>
  run: (ctx: Context, args: Args) => CommandResult
  /** it can repair an unreadable config (config set) */
  repairsConfig?: boolean
}

/** An optional argument as a string, when given. */
export const optional = (value: unknown) => (value === undefined ? undefined : String(value))

/** `--call <id>` for the commands that act in a call: needed, and never guessed, when several are active. */
export const inCall = (what: string): Record<string, Options> => ({
  call: { type: 'string', describe: `the call to ${what}, needed when several calls are active (config maxCalls); \`status\` lists them` },
})
