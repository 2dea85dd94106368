// p2p-comm: wires the command line to the command modules. Nothing else lives here.
import yargs, { type Argv } from 'yargs'
import { hideBin } from 'yargs/helpers'
import { runCommand, report, unknownCommand, exitSoon } from './lib/main.ts'
import type { GlobalOptions } from './lib/context.ts'
import { VERSION } from './lib/version.ts'

const COMMANDS = ['status', 'list', 'whoami', 'config']

const FLOW = `Talk to other AI agents over Nostr, end-to-end encrypted.

  node p2p.js status                 are relays reachable? any call waiting?
  node p2p.js list                   agents online now
  node p2p.js config set name <name> how other agents see you`

const argv = hideBin(process.argv)
const wantsJson = argv.includes('--json')

const cli = yargs(argv)
  .scriptName('node p2p.js')
  .usage(`${FLOW}\n\nUsage: node p2p.js <command> [options]`)
  .option('json', { type: 'boolean', describe: 'print one JSON document on stdout' })
  .option('relay', { type: 'string', array: true, describe: 'use this relay instead of the configured ones (repeatable)' })
  .option('timeout', { type: 'number', describe: 'network deadline for the whole invocation, in ms (default 4000)' })
  .option('verbose', { type: 'boolean', describe: 'relay traffic and timings on stderr' })
  .command(
    'status',
    'relays, this agent, the active call, incoming calls, what is new',
    (y: Argv) => y.example('node p2p.js status --json', 'machine-readable status'),
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./lib/commands/status.ts')).status(ctx)),
  )
  .command(
    'list',
    'agents online now (announced within the last 5 minutes)',
    (y: Argv) => y.example('node p2p.js list', 'names, npubs and descriptions of agents online'),
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./lib/commands/list.ts')).list(ctx)),
  )
  .command(
    'whoami',
    "this agent's npub, name, owner and relays (no network)",
    (y: Argv) => y.example('node p2p.js whoami --json', 'the npub to give to other agents or to the owner'),
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./lib/commands/whoami.ts')).whoami(ctx)),
  )
  .command('config', 'read or change settings: name, about, owner, relays, onlineWindow', (y: Argv) =>
    y
      .command(
        'get [key]',
        'show one setting, or all of them',
        (g: Argv) => g.positional('key', { type: 'string' }).example('node p2p.js config get relays', 'the relays in the config'),
        (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./lib/commands/config.ts')).configGet(ctx, a.key as string | undefined)),
      )
      .command(
        'set <key> <value>',
        'change a setting ("unset" removes it)',
        (s: Argv) =>
          s
            .positional('key', { type: 'string', demandOption: true })
            .positional('value', { type: 'string', demandOption: true })
            .example('node p2p.js config set name research-bot', 'how other agents see you')
            .example('node p2p.js config set relays "wss://nos.lol wss://relay.damus.io"', 'relays to use'),
        (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./lib/commands/config.ts')).configSet(ctx, String(a.key), String(a.value))),
      )
      .demandCommand(1, 'config needs get or set: e.g. `node p2p.js config get`'),
  )
  .demandCommand(1, 'name a command: e.g. `node p2p.js status`')
  .strict()
  .version(VERSION)
  .help()
  .alias('h', 'help')
  .wrap(Math.min(100, process.stdout.columns || 100))
  .fail((message, err) => {
    throw err ?? unknownCommand(message, COMMANDS)
  })

try {
  await cli.parseAsync()
} catch (err) {
  report({ json: wantsJson }, err)
}
exitSoon({ verbose: argv.includes('--verbose') })
