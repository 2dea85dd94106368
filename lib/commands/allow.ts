// `allow <agent>` / `block <agent>` (and `--remove`): the lists the `accept` policy reads
// (lib/calls/policy.ts). Without an agent, both lists. Local only: no network; an agent is
// named by npub, hex key, nprofile, or a name this agent has seen announced.
import { resolveAgent } from '../calls/agents.ts'
import { type CommandResult, stateError } from '../errors.ts'
import { MAX_ALLOWED, MAX_BLOCKED } from '../limits.ts'
import { npub } from '../nostr/keys.ts'
import type { Context } from '../session/context.ts'
import type { State } from '../store/schema.ts'
import { unixNow } from '../timing.ts'
import { table } from '../ui/format.ts'

type List = 'allowed' | 'blocked'

const entries = (state: State, list: List) =>
  Object.entries(state[list] ?? {}).map(([key, since]) => ({ npub: npub(key), name: state.agents[key]?.name ?? '', since }))

export async function allowOrBlock(ctx: Context, list: List, agent: string | undefined, remove: boolean): CommandResult {
  const now = unixNow()
  const { changed, key, state } = agent
    ? await ctx.store.update((s) => {
        const key = resolveAgent(s, agent, ctx.identity.pubkey, now, ctx.onlineWindow)
        const other: List = list === 'allowed' ? 'blocked' : 'allowed'
        s[list] ??= {}
        const held = s[list]
        if (remove) {
          const changed = key in held
          delete held[key]
          return { changed, key, state: s }
        }
        const max = list === 'allowed' ? MAX_ALLOWED : MAX_BLOCKED
        if (!(key in held) && Object.keys(held).length >= max) {
          throw stateError(
            'list-full',
            `${max} keys are ${list} already`,
            `remove some first: \`node p2p.js ${verb(list)} --remove <npub>\``,
          )
        }
        // a key is allowed or blocked, never both
        if (s[other]) delete s[other][key]
        const changed = !(key in held)
        held[key] ??= now
        return { changed, key, state: s }
      })
    : { changed: false, key: undefined, state: await ctx.store.read() }
  const allowed = entries(state, 'allowed')
  const blocked = entries(state, 'blocked')
  const accept = ctx.config.accept ?? 'anyone'
  ctx.out.result({ agent: key ? npub(key) : null, changed, accept, allowed, blocked }, () => [
    ...(key ? [said(list, key, state, changed, remove)] : []),
    `accept = ${accept}${accept === 'anyone' ? ' (allowed keys matter with `config set accept known` or `allowlist`)' : ''}`,
    `allowed (${allowed.length}):`,
    ...table(
      allowed.map((e) => [e.name || '-', e.npub]),
      '  ',
    ),
    `blocked (${blocked.length}):`,
    ...table(
      blocked.map((e) => [e.name || '-', e.npub]),
      '  ',
    ),
  ])
}

const verb = (list: List) => (list === 'allowed' ? 'allow' : 'block')

function said(list: List, key: string, state: State, changed: boolean, remove: boolean): string {
  const who = `${state.agents[key]?.name ?? ''} ${npub(key)}`.trim()
  if (remove) return changed ? `${who} is no longer ${list}` : `${who} was not ${list}`
  return changed ? `${who} is now ${list}` : `${who} was ${list} already`
}
