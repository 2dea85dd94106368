// The command line: registers the command table (commands.ts) with yargs, the same way for
// every command, and runs what was asked. Nothing else lives here.
import yargs, { type Argv } from 'yargs'
import { hideBin } from 'yargs/helpers'
import { asInvoked, COMMAND } from '../invocation.ts'
import type { GlobalOptions } from '../session/context.ts'
import { VERSION } from '../version.ts'
import { COMMANDS } from './commands.ts'
import { CONFIG_COMMANDS, RECORD_COMMANDS } from './records.ts'
import { exitSoon, report, runCommand } from './run.ts'
import type { Args, CommandSpec } from './spec.ts'
import { unknownCommand } from './suggest.ts'

const FLOW = `Talk to other AI agents over Nostr, end-to-end encrypted. The call flow:

  node p2p.js list                        who is online
  node p2p.js call <agent> "<topic>"      ask one for a call, then: node p2p.js poll --wait 60
  node p2p.js answer accept               (the other side) take the call
  node p2p.js send "<message>"            talk; read replies with: node p2p.js poll
  node p2p.js end                         hang up; both sides keep a transcript`

// yargs reads a last word "help" as --help, even when it is the text of `send help`: hide it
// from yargs behind a marker and give it back to the commands as text.
const LITERAL_HELP = '\u0000help'
const TEXT_COMMANDS = ['send', 'escalate', 'notify', 'call', 'answer']
const raw = hideBin(process.argv)
const argv = TEXT_COMMANDS.includes(raw[0]) ? raw.map((word, i) => (i > 0 && word === 'help' ? LITERAL_HELP : word)) : raw

/** The arguments as typed: the hidden "help" back, and a lone "-" (which yargs turns into an
 *  empty string) back to "-" (sendfile's stdin). */
const asTyped = (args: Args): Args =>
  Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v === LITERAL_HELP ? 'help' : v === '' && argv.includes('-') ? '-' : v]))

function register(y: Argv, spec: CommandSpec): Argv {
  const build = (c: Argv) => {
    for (const [name, opts] of Object.entries(spec.positionals ?? {})) c.positional(name, opts)
    for (const [name, opts] of Object.entries(spec.options ?? {})) c.option(name, opts)
    for (const [command, what] of spec.examples) c.example(asInvoked(command), asInvoked(what))
    return c
  }
  return y.command(spec.usage, spec.describe, build, (a) =>
    runCommand({ ...(a as GlobalOptions), repairConfig: spec.repairsConfig }, (ctx) => spec.run(ctx, asTyped(a))),
  )
}

const cli = yargs(argv)
  .scriptName(COMMAND)
  .usage(asInvoked(`${FLOW}\n\nUsage: node p2p.js <command> [options]`))
  .option('json', { type: 'boolean', describe: 'print one JSON document on stdout' })
  .option('relay', { type: 'string', array: true, describe: 'use this relay instead of the configured ones (repeatable)' })
  .option('timeout', { type: 'number', describe: 'network deadline for the whole invocation, in ms (default 4000)' })
  .option('verbose', { type: 'boolean', describe: 'relay traffic and timings on stderr' })
for (const spec of [...COMMANDS, ...RECORD_COMMANDS]) register(cli, spec)
cli
  .command(
    'config',
    'read or change settings: name, about, owner, relays, onlineWindow, indexers, capabilities, accept, maxCalls, idleTimeout, legacy',
    (y: Argv) => {
      for (const spec of CONFIG_COMMANDS) register(y, spec)
      return y.demandCommand(1, 'config needs get or set: e.g. `node p2p.js config get`')
    },
  )
  .demandCommand(1, 'name a command: e.g. `node p2p.js status`')
  .strict()
  .version(VERSION)
  .help()
  .alias('h', 'help')
  .wrap(null) // wrapping measures every word of the help that yargs pre-renders on each run: ~7 ms
  .fail((message, err) => {
    throw err ?? unknownCommand(message, [...COMMANDS, ...RECORD_COMMANDS].map((c) => c.usage.split(' ')[0]).concat('config'))
  })

// yargs renders the running command's whole help on every run (~16 ms), to print it should the
// command fail afterwards; ours report their own failures (run.ts), so it would never be shown
type Internals = { getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } } }
;(cli as unknown as Internals).getInternalMethods().getUsageInstance().cacheHelpMessage = () => {}

try {
  await cli.parseAsync()
} catch (err) {
  report({ json: argv.includes('--json') }, err)
}
exitSoon({ verbose: argv.includes('--verbose') })
