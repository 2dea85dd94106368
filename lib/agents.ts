// Who is online: agents whose announcement is within the window, newest first, never ourselves.
import type { State, AgentRecord } from './state.ts'

export interface OnlineAgent extends AgentRecord {
  /** another key announces the same name: never merged, shown per key */
  nameShared: boolean
}

export function onlineAgents(state: State, me: string, now: number, window: number): OnlineAgent[] {
  const agents = Object.values(state.agents)
    .filter((a) => a.pubkey !== me && a.lastSeen >= now - window)
    .sort((a, b) => b.lastSeen - a.lastSeen)
  const count = new Map<string, number>()
  for (const a of agents) count.set(a.name.toLowerCase(), (count.get(a.name.toLowerCase()) ?? 0) + 1)
  return agents.map((a) => ({ ...a, nameShared: (count.get(a.name.toLowerCase()) ?? 0) > 1 }))
}
