// The commands that look after this agent's own records: the outbox, who may reach it, past
// calls, who it is, its settings. Registered after the call flow's (commands.ts).
import { MAX_CALLS } from '../limits.ts'
import { type CommandSpec, optional } from './spec.ts'

export const RECORD_COMMANDS: CommandSpec[] = [
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
