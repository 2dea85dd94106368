// The commands of the call flow, in the order --help lists them: each one's arguments, options,
// examples and the module that runs it (loaded only when that command runs). lib/cli/main.ts
// registers them, and those of records.ts, the same way.
import { FIND_CROWD_LIMIT, LIST_SHOWN, MAX_HOOK_ATTEMPTS, MAX_LEGACY_FILE_BYTES } from '../limits.ts'
import { DEFAULT_SETTLE_S, HOOK_TIMEOUT_MS, MAX_WAIT_S } from '../timing.ts'
import { thousands } from '../ui/format.ts'
import { type CommandSpec, inCall, optional } from './spec.ts'

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
    usage: 'notify <text>',
    describe: "tell this agent's human owner something that asks no decision (a result, a deal closed): a NIP-17 DM; no peer is told",
    positionals: { text: { type: 'string', demandOption: true } },
    examples: [['node p2p.js notify "deal closed with fx-desk: 3 rate files at 12 USD"', 'the owner reads it on their phone']],
    run: async (ctx, a) => (await import('../commands/notify.ts')).notify(ctx, String(a.text)),
  },
  {
    usage: 'share <ownerMessageId>',
    describe:
      "show the peer a message of your owner (an owner-message's id) with what lets it check that the owner's key signed it, to you; with the escalation it answers. Nothing else of your owner's conversation is shown",
    positionals: { ownerMessageId: { type: 'string', demandOption: true } },
    options: inCall('show it in'),
    examples: [['node p2p.js share 5c1f…e9', "the peer's poll shows an owner-proof event, verified"]],
    run: async (ctx, a) => (await import('../commands/share.ts')).share(ctx, String(a.ownerMessageId), optional(a.call)),
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
]
