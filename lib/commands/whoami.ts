// `whoami`: this agent's public identity and settings, and where its last run left it visible.
// Local only: no relay is contacted.

import { visibility } from '../calls/views.ts'
import type { CommandResult } from '../errors.ts'
import type { Context } from '../session/context.ts'
import { unixNow } from '../timing.ts'
import { table } from '../ui/format.ts'
import { visibleLine } from '../ui/render.ts'

export async function whoami(ctx: Context): CommandResult {
  const owner = ctx.config.owner ?? null
  const presence = visibility(await ctx.store.read(), ctx.name, unixNow())
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
    },
    () =>
      table([
        ['npub', ctx.identity.npub],
        ['name', ctx.name + (ctx.config.name ? '' : ' (default; `node p2p.js config set name <name>`)')],
        ['owner', owner ?? 'not set (`node p2p.js config set owner <npub>`)'],
        ['relays', `${ctx.relays.join(' ')} (${ctx.relaySource})`],
        ['home', ctx.paths.dir],
        ['visible', visibleLine(presence)],
      ]),
  )
}
