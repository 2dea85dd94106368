// The command table: each command's arguments, options, examples and the module that runs it
// (loaded only when that command runs). lib/cli/main.ts registers them all the same way.
import type { Options, PositionalOptions } from 'yargs'
import type { CommandResult } from '../errors.ts'
import { FIND_CROWD_LIMIT, LIST_SHOWN, MAX_CALLS, MAX_HOOK_ATTEMPTS, MAX_LEGACY_FILE_BYTES } from '../limits.ts'
import type { Context } from '../session/context.ts'
import { DEFAULT_SETTLE_S, HOOK_TIMEOUT_MS, MAX_WAIT_S } from '../timing.ts'
import { thousands } from '../ui/format.ts'

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

const optional = (value: unknown) => (value === undefined ? undefined : String(value))

/** `--call <id>` for the commands that act in a call: needed, and never guessed, when several are active. */
const inCall = (what: string): Record<string, Options> => ({
  call: { type: 'string', describe: `the call to ${what}, needed when several calls are active (config maxCalls); \`status\` lists them` },
})

export const COMMANDS: CommandSpec[] = [
  {
    usage: 'status',
    describe: 'relays, this agent and where it is visible (until when), the active call, incoming calls, what is new',
    examples: [['node p2p.js status --json', 'machine-readable status']],
    run: async (ctx) => (await import('../commands/status.ts')).status(ctx),
  },
  {
    usage: 'list',
    describe:
      'agents online now (announced within the online window, 5 minutes by default, and not expired). Names are claims, keys are identities: `nameShared` (--json) or a (!) after the name says another key announces the same name or one that looks the same; call such an agent by npub',
    examples: [
      ['node p2p.js list', 'names, npubs and descriptions of agents online'],
      ['node p2p.js list --json', 'full npubs, capabilities, and nameShared for names several keys claim'],
      ['node p2p.js list --find "fx rates"', 'only agents whose name, about or capabilities hold every word'],
      ['node p2p.js list --max 200', `more of a crowd than the ${LIST_SHOWN} seen last`],
    ],
    options: {
      find: {
        type: 'string',
        describe: `words (in one argument) that must all appear, in any case, in the name, about or capabilities. Relays are asked for the agents that announce a word as a whole name or capability word, however many others are online; parts of words, words of the about, and agents of the original skill (their announcements carry no search words) are matched among the agents the last \`list\` or \`status\` saw (else among the ${FIND_CROWD_LIMIT} announced last)`,
      },
      max: { type: 'number', describe: `show at most n agents, the most recently seen (default ${LIST_SHOWN}); the rest are counted` },
    },
    run: async (ctx, a) => (await import('../commands/list.ts')).list(ctx, optional(a.find), a.max as number | undefined),
  },
  {
    usage: 'call <agent> <topic>',
    describe: 'ask another agent for a call about a topic',
    positionals: {
      agent: { type: 'string', demandOption: true, describe: 'npub, hex key, nprofile, or a name from `list`' },
      topic: { type: 'string', demandOption: true },
    },
    examples: [
      ['node p2p.js call research-bot "summarise the Q3 report"', 'then wait for the answer: node p2p.js poll --wait 60'],
      [
        'node p2p.js config set legacy on',
        'first, to call an agent of the original skill (it reads only NIP-04; `list` shows nip17 false)',
      ],
    ],
    run: async (ctx, a) => (await import('../commands/call.ts')).call(ctx, String(a.agent), String(a.topic)),
  },
  {
    usage: 'answer <decision> [reason]',
    describe: 'take (accept) or refuse (reject) the waiting incoming call',
    positionals: {
      decision: { type: 'string', choices: ['accept', 'reject'], demandOption: true },
      reason: { type: 'string', describe: 'why, when rejecting' },
    },
    options: { call: { type: 'string', describe: 'the call id, when several calls wait' } },
    examples: [
      ['node p2p.js answer accept', 'take the waiting call'],
      ['node p2p.js answer reject "busy with a deadline, call back in an hour"', 'refuse it, saying why'],
    ],
    run: async (ctx, a) =>
      (await import('../commands/answer.ts')).answer(ctx, a.decision as 'accept' | 'reject', String(a.reason ?? ''), optional(a.call)),
  },
  {
    usage: 'send <message>',
    describe: 'send a message in the active call',
    positionals: { message: { type: 'string', demandOption: true } },
    options: inCall('send in'),
    examples: [
      ['node p2p.js send "here is the summary: ..."', 'at most 16,000 bytes (less if much must be escaped); longer text: sendfile'],
      ['node p2p.js send --call 3f9a2c1b7e "rates attached"', 'in one of several active calls'],
    ],
    run: async (ctx, a) => (await import('../commands/send.ts')).send(ctx, String(a.message), optional(a.call)),
  },
  {
    usage: 'sendfile <name> <base64>',
    describe: 'send a file (base64, or - to read base64 from stdin, which must end within --timeout) in the active call, up to 10 MiB',
    positionals: { name: { type: 'string', demandOption: true }, base64: { type: 'string', demandOption: true } },
    options: inCall('send the file in'),
    examples: [
      ['node p2p.js sendfile report.pdf "$(base64 -w0 report.pdf)"', 'a file as an argument'],
      ['base64 big.csv | node p2p.js sendfile big.csv -', 'a large file through stdin'],
      [
        'node p2p.js sendfile rates.csv "$(base64 -w0 rates.csv)"',
        `to an agent of the original skill (NIP-04): at most ${thousands(MAX_LEGACY_FILE_BYTES)} bytes, one DM`,
      ],
    ],
    run: async (ctx, a) => (await import('../commands/sendfile.ts')).sendfile(ctx, String(a.name), String(a.base64), optional(a.call)),
  },
  {
    usage: 'escalate <reason>',
    describe: "hand a decision to this agent's human owner (a NIP-17 DM to their phone); the peer is told",
    positionals: { reason: { type: 'string', demandOption: true } },
    options: inCall('escalate from (its peer is told)'),
    examples: [
      [
        'node p2p.js escalate "bob asks for 40 USD to buy the dataset: approve?"',
        'the owner replies from any Nostr client; the answer shows in poll',
      ],
    ],
    run: async (ctx, a) => (await import('../commands/escalate.ts')).escalate(ctx, String(a.reason), optional(a.call)),
  },
  {
    usage: 'end',
    describe: 'end the active call (or cancel the ringing one) and print the transcript',
    options: inCall('end'),
    examples: [
      ['node p2p.js end', 'both sides keep a transcript; see them with `history`'],
      ['node p2p.js end --call 3f9a2c1b7e', 'end one of several active calls'],
    ],
    run: async (ctx, a) => (await import('../commands/end.ts')).end(ctx, optional(a.call)),
  },
  {
    usage: 'poll',
    describe:
      'sync and print only what is new since the last poll (silent when nothing is). Only poll consumes events: other commands are safe to run beside it',
    options: {
      exec: {
        type: 'string',
        describe: `run this program once per new event, without a shell: a script's path, or a program and its arguments ('…' and "…" quote; pipes, redirections and variables go in a script); the event as one JSON document on stdin, P2P_EVENT_TYPE and P2P_CALL_ID in the environment, killed with all it started after ${HOOK_TIMEOUT_MS / 1000} s; a hook exiting non-zero is reported on stderr and not run again for that event (one killed or timed out is, at the next poll, ${MAX_HOOK_ATTEMPTS} times in all)`,
      },
      wait: {
        type: 'number',
        describe: `stay connected up to this many seconds (at most ${MAX_WAIT_S}) until something arrives; nothing printed: nothing came yet, wait again`,
      },
      settle: {
        type: 'number',
        describe: `with --wait: once something arrives, take what follows within this many seconds too (default ${DEFAULT_SETTLE_S}, 0 to return at once)`,
      },
      max: { type: 'number', describe: 'print at most n events, oldest first; the rest stay new (a reader that keeps n asks for n)' },
    },
    examples: [
      ['node p2p.js poll --wait 60', 'wait up to a minute for an answer'],
      [
        '* * * * * cd ~/p2p-comm && node p2p.js poll --exec ./on-event.sh',
        'a crontab line; the hook answers with `node p2p.js answer accept --call "$P2P_CALL_ID"`',
      ],
    ],
    run: async (ctx, a) =>
      (await import('../commands/poll.ts')).poll(ctx, {
        exec: optional(a.exec),
        wait: a.wait as number | undefined,
        settle: a.settle as number | undefined,
        max: a.max as number | undefined,
      }),
  },
  {
    usage: 'outbox [action] [id]',
    describe: 'what is queued for retry (attempts, the last relay answer); `outbox drop <id>|all` removes items',
    positionals: {
      action: { type: 'string', choices: ['drop'], describe: 'drop: remove the item <id> (or the start of it), or all' },
      id: { type: 'string', describe: 'an id from `outbox`, or all' },
    },
    examples: [
      ['node p2p.js outbox', 'what waits for a relay, and what was given up'],
      ['node p2p.js outbox drop all', 'empty the queue (nothing in it will be sent)'],
    ],
    run: async (ctx, a) => {
      const m = await import('../commands/outbox.ts')
      return a.action === 'drop' ? m.outboxDrop(ctx, optional(a.id)) : m.outbox(ctx)
    },
  },
  {
    usage: 'allow [agent]',
    describe:
      'let an agent call you and send you DMs whatever `config set accept` says (allowed keys count as known); without an agent, show who is allowed and blocked (local, no network)',
    positionals: { agent: { type: 'string', describe: 'npub, hex key, nprofile, or a name from `list`' } },
    options: { remove: { type: 'boolean', describe: 'take the agent off the allowed list' } },
    examples: [
      ['node p2p.js allow npub1… && node p2p.js config set accept allowlist', 'only this agent (and others you allow) may call'],
      ['node p2p.js allow research-bot --remove', 'no longer allowed'],
    ],
    run: async (ctx, a) => (await import('../commands/allow.ts')).allowOrBlock(ctx, 'allowed', optional(a.agent), a.remove === true),
  },
  {
    usage: 'block [agent]',
    describe:
      "drop an agent's call requests and DMs unseen (counted with --verbose), whatever `accept` says; without an agent, show who is allowed and blocked (local, no network)",
    positionals: { agent: { type: 'string', describe: 'npub, hex key, nprofile, or a name from `list`' } },
    options: { remove: { type: 'boolean', describe: 'take the agent off the blocked list' } },
    examples: [
      ['node p2p.js block npub1…', 'never hear from this key again'],
      ['node p2p.js block npub1… --remove', 'unblock it'],
    ],
    run: async (ctx, a) => (await import('../commands/allow.ts')).allowOrBlock(ctx, 'blocked', optional(a.agent), a.remove === true),
  },
  {
    usage: 'history [callId]',
    describe: 'past calls, or the transcript of one',
    positionals: { callId: { type: 'string' } },
    examples: [
      ['node p2p.js history', 'the list of calls'],
      ['node p2p.js history 3f9a2c1b7e', 'one transcript'],
    ],
    run: async (ctx, a) => (await import('../commands/history.ts')).history(ctx, optional(a.callId)),
  },
  {
    usage: 'whoami',
    describe: "this agent's npub, name, owner and relays, and where its last online run left it visible, until when (no network)",
    examples: [['node p2p.js whoami --json', 'the npub to give to other agents or to the owner']],
    run: async (ctx) => (await import('../commands/whoami.ts')).whoami(ctx),
  },
]

/** `config get` and `config set`, registered under `config`. */
export const CONFIG_COMMANDS: CommandSpec[] = [
  {
    usage: 'get [key]',
    describe: 'show one setting, or all of them',
    positionals: { key: { type: 'string' } },
    examples: [['node p2p.js config get relays', 'the relays in the config']],
    run: async (ctx, a) => (await import('../commands/config.ts')).configGet(ctx, optional(a.key)),
  },
  {
    usage: 'set <key> <value>',
    describe: 'change a setting ("unset" removes it)',
    positionals: { key: { type: 'string', demandOption: true }, value: { type: 'string', demandOption: true } },
    examples: [
      ['node p2p.js config set name research-bot', 'how other agents see you'],
      ['node p2p.js config set relays "wss://nos.lol wss://relay.damus.io"', 'relays to use'],
      ['node p2p.js config set capabilities "fx-rates, currency"', 'what you do, announced to others (list --find)'],
      ['node p2p.js config set accept known', 'only agents you called, were in a call with, or allowed may call you'],
      [
        'node p2p.js config set maxCalls 3',
        `hold up to 3 calls at once (at most ${MAX_CALLS}); then send, sendfile, escalate, end take --call <id>`,
      ],
      [
        'node p2p.js config set legacy on',
        'also call and take calls from agents of the original skill, over NIP-04 (off by default: NIP-04 shows relays who talks to whom and when)',
      ],
    ],
    run: async (ctx, a) => (await import('../commands/config.ts')).configSet(ctx, String(a.key), String(a.value)),
    repairsConfig: true,
  },
]
