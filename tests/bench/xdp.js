// The bench's XDP drop program (xdp-drop.c) in the lab: attached to an interface in a namespace,
// in generic (skb) or native mode, its ban maps filled with bpftool, detached again. Programs and
// maps are not per namespace: the program is found through the interface it is attached to and
// its maps through the program, never by name (another run on the machine may hold maps named so).
import { isIP } from 'node:net';

/** `ip link` flags and the attach mode `ip -j link` reports for each (XDP_ATTACHED_DRV = 1, SKB = 2). */
export const XDP_MODES = { generic: { flag: 'xdpgeneric', attached: 2 }, native: { flag: 'xdpdrv', attached: 1 } };

/** The id of the program attached in `mode`, from `ip -j link show dev X`'s output; null when none is. */
export function attachedProgram(linkJson, mode) {
  const xdp = JSON.parse(linkJson)[0]?.xdp;
  if (!xdp) return null;
  // Newer iproute2 lists every attachment; older ones only the one program with its mode.
  const found = (xdp.attached ?? [xdp]).find((a) => a.mode === XDP_MODES[mode].attached);
  return found?.prog?.id ?? null;
}

/** An address's bytes in network order, as bpftool takes a map key (IPv4 dotted, IPv6 colon-hex without an embedded IPv4 tail). */
export function addressBytes(address) {
  if (isIP(address) === 4) return address.split('.').map(Number);
  if (isIP(address) !== 6 || address.includes('.')) throw new Error(`address: not an IPv4 or colon-hex IPv6 address (got ${address})`);
  const [head, tail] = address.split('::').map((s) => (s ? s.split(':') : []));
  const groups = tail === undefined ? head : [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

/**
 * Attaches `object` to `dev` in `ns` and returns the program's id and its maps by name. On a
 * failure after the attach, detaches it before throwing.
 */
export async function attachXdp(lab, ns, dev, object, mode) {
  await lab.exec(ns, 'ip', ['link', 'set', 'dev', dev, XDP_MODES[mode].flag, 'obj', object, 'sec', 'xdp']);
  try {
    const link = (await lab.exec(ns, 'ip', ['-j', 'link', 'show', 'dev', dev])).stdout;
    const prog = attachedProgram(link, mode);
    if (prog === null) throw new Error(`xdp: no program in ${mode} mode on ${dev} after the attach (got ${link.trim()})`);
    const mapIds = JSON.parse((await lab.exec(ns, 'bpftool', ['-j', 'prog', 'show', 'id', String(prog)])).stdout).map_ids ?? [];
    const maps = {};
    for (const id of mapIds) maps[JSON.parse((await lab.exec(ns, 'bpftool', ['-j', 'map', 'show', 'id', String(id)])).stdout).name] = id;
    return { prog, maps };
  } catch (err) {
    await detachXdp(lab, ns, dev, mode);
    throw err;
  }
}

/** Detaches whatever program `mode` holds on `dev`; nothing attached is fine. */
export const detachXdp = (lab, ns, dev, mode) => lab.status(ns, 'ip', ['link', 'set', 'dev', dev, XDP_MODES[mode].flag, 'off']);

/** Puts `address` into the attached program's ban map of its family. */
export function banInXdp(lab, ns, attached, address) {
  const map = attached.maps[isIP(address) === 4 ? 'ban4' : 'ban6'];
  if (map === undefined) throw new Error(`xdp: program ${attached.prog} has no ban map for ${address} (maps: ${Object.keys(attached.maps).join(', ')})`);
  return lab.exec(ns, 'bpftool', ['map', 'update', 'id', String(map), 'key', ...addressBytes(address).map(String), 'value', '1']);
}
