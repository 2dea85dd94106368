// `whoami`: this agent's public identity and settings, and where its last run left it visible
// (under its old name, after a rename no online run has announced yet).
// Local only: no relay is contacted.

import { visibility } from '../calls/views.ts'
import type { CommandResult } from '../errors.ts'
import type { Context } from '../session/context.ts'
import { unixNow } from '../timing.ts'
import { table } from '../ui/format.ts'
import { renamedLine, visibleLine } from '../ui/render.ts'

export async function whoami(ctx: Context): CommandResult {
  const owner = ctx.config.owner ?? null
  const state = await ctx.store.read()
  const now = unixNow()
  const presence = visibility(state, ctx.name, now)
  // renamed since the last online run: others still see the old name, until the next run
  const before = state.ownPresence && state.ownPresence.name !== ctx.name ? visibility(state, state.ownPresence.name, now) : undefined
  const announced = before?.visibleUntil ? before : undefined
  ctx.out.result(
    {
      npub: ctx.identity.npub,
      pubkey: ctx.identity.pubkey,
      name: ctx.name,
      about: ctx.config.about ?? '',
      owner,
      relays: ctx.relays,
      relaySource: ctx.relaySource,
      home: ctx.paths.dir,
      presence,
      ...(announced ? { announced } : {}),
    },
    () =>
      table([
        ['npub', ctx.identity.npub],
        ['name', ctx.name + (ctx.config.name ? '' : ' (default; `node p2p.js config set name <name>`)')],
        ['owner', owner ?? 'not set (`node p2p.js config set owner <npub>`)'],
        ['relays', `${ctx.relays.join(' ')} (${ctx.relaySource})`],
        ['home', ctx.paths.dir],
        ['visible', announced && presence.visibleUntil === null ? renamedLine(ctx.name, announced, now) : visibleLine(presence, now)],
      ]),
  )
}
