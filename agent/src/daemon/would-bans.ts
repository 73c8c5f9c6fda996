// Audit mode bans nobody, so a flooding source keeps tripping its detector: each would-ban is
// said once for as long as the ban would have lasted, not once per packet. Bounded: at the cap
// the one ending soonest is forgotten (it would be said again, never missed).
const MAX = 10_000;

export class WouldBans {
  readonly #until = new Map<string, number>();

  /** True the first time a source would be banned, until `until` (epoch ms) has passed. */
  first(address: string, until: number, now: number): boolean {
    const known = this.#until.get(address);
    if (known !== undefined && known > now) return false;
    if (this.#until.size >= MAX) this.#forgetSoonest(now);
    this.#until.set(address, until);
    return true;
  }

  /** Back to enforcing: what would have been banned is banned at its next packet, not remembered here. */
  clear(): void {
    this.#until.clear();
  }

  #forgetSoonest(now: number): void {
    let soonest: string | undefined;
    let at = Infinity;
    for (const [a, u] of this.#until) {
      if (u <= now) this.#until.delete(a);
      else if (u < at) (at = u), (soonest = a);
    }
    if (this.#until.size >= MAX && soonest !== undefined) this.#until.delete(soonest);
  }
}
