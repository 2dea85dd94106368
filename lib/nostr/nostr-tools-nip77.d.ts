// nostr-tools ships NIP-77 (lib/esm/nip77.js) without a package export of its own: importing it
// from the package's index would load all of nostr-tools on every run. The build
// (scripts/build.mjs), vitest (vitest.config.ts) and tsx (tsconfig.json `paths`: the benchmark
// and scripts) resolve `nostr-tools/nip77` to that file; these are its types, taken from the index's.
declare module 'nostr-tools/nip77' {
  import type { nip77 } from 'nostr-tools'
  export const Negentropy: typeof nip77.Negentropy
  export type Negentropy = nip77.Negentropy
  export const NegentropyStorageVector: typeof nip77.NegentropyStorageVector
  export type NegentropyStorageVector = nip77.NegentropyStorageVector
}
