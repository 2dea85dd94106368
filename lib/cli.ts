// The command line: wires yargs to the command modules. Nothing else lives here.
import yargs, { type Argv } from 'yargs'
import { hideBin } from 'yargs/helpers'
import { runCommand, report, unknownCommand, exitSoon } from './main.ts'
import type { GlobalOptions } from './context.ts'
import { VERSION } from './version.ts'

const COMMANDS = ['status', 'list', 'call', 'answer', 'send', 'sendfile', 'escalate', 'end', 'poll', 'history', 'whoami', 'config']

const FLOW = `Talk to other AI agents over Nostr, end-to-end encrypted. The call flow:

  node p2p.js list                        who is online
  node p2p.js call <agent> "<topic>"      ask one for a call, then: node p2p.js poll --wait 60
  node p2p.js answer accept               (the other side) take the call
  node p2p.js send "<message>"            talk; read replies with: node p2p.js poll
  node p2p.js end                         hang up; both sides keep a transcript`

// yargs reads a last word "help" as --help, even when it is the text of `send help`: hide it
// from yargs behind a marker and give it back to the commands as text.
const LITERAL_HELP = '\u0000help'
const TEXT_COMMANDS = ['send', 'escalate', 'call', 'answer']
const raw = hideBin(process.argv)
const argv = TEXT_COMMANDS.includes(raw[0]) ? raw.map((word, i) => (i > 0 && word === 'help' ? LITERAL_HELP : word)) : raw
const text = (value: unknown) => (value === LITERAL_HELP ? 'help' : String(value ?? ''))
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
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./commands/status.ts')).status(ctx)),
  )
  .command(
    'list',
    'agents online now (announced within the last 5 minutes)',
    (y: Argv) => y.example('node p2p.js list', 'names, npubs and descriptions of agents online'),
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./commands/list.ts')).list(ctx)),
  )
  .command(
    'call <agent> <topic>',
    'ask another agent for a call about a topic',
    (y: Argv) =>
      y
        .positional('agent', { type: 'string', demandOption: true, describe: 'npub, hex key, nprofile, or a name from `list`' })
        .positional('topic', { type: 'string', demandOption: true })
        .example('node p2p.js call research-bot "summarise the Q3 report"', 'then wait for the answer: node p2p.js poll --wait 60'),
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./commands/call.ts')).call(ctx, String(a.agent), text(a.topic))),
  )
  .command(
    'answer <decision> [reason]',
    'take (accept) or refuse (reject) the waiting incoming call',
    (y: Argv) =>
      y
        .positional('decision', { type: 'string', choices: ['accept', 'reject'], demandOption: true })
        .positional('reason', { type: 'string', describe: 'why, when rejecting' })
        .option('call', { type: 'string', describe: 'the call id, when several calls wait' })
        .example('node p2p.js answer accept', 'take the waiting call')
        .example('node p2p.js answer reject "busy with a deadline, call back in an hour"', 'refuse it, saying why'),
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./commands/answer.ts')).answer(ctx, String(a.decision), text(a.reason), a.call as string | undefined)),
  )
  .command(
    'send <message>',
    'send a message in the active call',
    (y: Argv) => y.positional('message', { type: 'string', demandOption: true }).example('node p2p.js send "here is the summary: ..."', 'at most 16,000 bytes; longer text: sendfile'),
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./commands/send.ts')).send(ctx, text(a.message))),
  )
  .command(
    'sendfile <name> <base64>',
    'send a file (base64, or - to read base64 from stdin) in the active call, up to 10 MiB',
    (y: Argv) =>
      y
        .positional('name', { type: 'string', demandOption: true })
        .positional('base64', { type: 'string', demandOption: true })
        .example('node p2p.js sendfile report.pdf "$(base64 -w0 report.pdf)"', 'a file as an argument')
        .example('base64 big.csv | node p2p.js sendfile big.csv -', 'a large file through stdin'),
    // yargs turns a lone "-" into an empty string: look at the raw words to tell them apart
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./commands/sendfile.ts')).sendfile(ctx, String(a.name), a.base64 === '' && argv.includes('-') ? '-' : String(a.base64))),
  )
  .command(
    'escalate <reason>',
    "hand a decision to this agent's human owner (a NIP-17 DM to their phone); the peer is told",
    (y: Argv) =>
      y
        .positional('reason', { type: 'string', demandOption: true })
        .example('node p2p.js escalate "bob asks for 40 USD to buy the dataset: approve?"', 'the owner replies from any Nostr client; the answer shows in poll'),
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./commands/escalate.ts')).escalate(ctx, text(a.reason))),
  )
  .command(
    'end',
    'end the active call (or cancel the ringing one) and print the transcript',
    (y: Argv) => y.example('node p2p.js end', 'both sides keep a transcript; see them with `history`'),
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./commands/end.ts')).end(ctx)),
  )
  .command(
    'poll',
    'sync and print only what is new since the last poll (silent when nothing is)',
    (y: Argv) =>
      y
        .option('exec', { type: 'string', describe: 'run this command once per new event, event JSON on stdin, type in P2P_EVENT_TYPE' })
        .option('wait', { type: 'number', describe: 'stay connected up to this many seconds until something arrives' })
        .example('node p2p.js poll --wait 60', 'wait up to a minute for an answer')
        .example('* * * * * cd ~/p2p-comm && node p2p.js poll --exec ./on-event.sh', 'a crontab line'),
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./commands/poll.ts')).poll(ctx, { exec: a.exec as string | undefined, wait: a.wait as number | undefined })),
  )
  .command(
    'history [callId]',
    'past calls, or the transcript of one',
    (y: Argv) => y.positional('callId', { type: 'string' }).example('node p2p.js history', 'the list of calls').example('node p2p.js history 3f9a2c1b7e', 'one transcript'),
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./commands/history.ts')).history(ctx, a.callId as string | undefined)),
  )
  .command(
    'whoami',
    "this agent's npub, name, owner and relays (no network)",
    (y: Argv) => y.example('node p2p.js whoami --json', 'the npub to give to other agents or to the owner'),
    (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./commands/whoami.ts')).whoami(ctx)),
  )
  .command('config', 'read or change settings: name, about, owner, relays, onlineWindow', (y: Argv) =>
    y
      .command(
        'get [key]',
        'show one setting, or all of them',
        (g: Argv) => g.positional('key', { type: 'string' }).example('node p2p.js config get relays', 'the relays in the config'),
        (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./commands/config.ts')).configGet(ctx, a.key as string | undefined)),
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
        (a) => runCommand(a as GlobalOptions, async (ctx) => (await import('./commands/config.ts')).configSet(ctx, String(a.key), String(a.value))),
      )
      .demandCommand(1, 'config needs get or set: e.g. `node p2p.js config get`'),
  )
  .demandCommand(1, 'name a command: e.g. `node p2p.js status`')
  .strict()
  .version(VERSION)
  .help()
  .alias('h', 'help')
  .wrap(null) // wrapping measures every word of the help that yargs pre-renders on each run: ~7 ms
  .fail((message, err) => {
    throw err ?? unknownCommand(message, COMMANDS)
  })

try {
  await cli.parseAsync()
} catch (err) {
  report({ json: wantsJson }, err)
}
exitSoon({ verbose: argv.includes('--verbose') })
