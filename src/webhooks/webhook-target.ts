import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may be sent (SSRF protection). A target URL is resolved, every address it
 * resolves to is checked, and the call then connects to the checked address itself (never to the
 * name again), so DNS cannot answer differently between the check and the connection.
 */

/** Turns a host name into its addresses (stubbed by unit tests; `dns.lookup` otherwise). */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

export interface TargetPolicy {
  allowPrivateTargets: boolean;
  requireHttps: boolean;
}

/** A target that may be called: the parsed URL and the address to connect to. */
export interface CheckedTarget {
  url: URL;
  /** The host name without brackets or a trailing dot (the Host header and TLS server name). */
  hostname: string;
  address: string;
  family: 4 | 6;
  port: number;
}

export class TargetRefused extends Error {}

/** Addresses no webhook may reach unless private targets are allowed (IANA special-purpose registries). */
const BLOCKED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT (also Alibaba's metadata 100.100.100.200)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (AWS metadata fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv6');
}

/** IPv6 forms that carry an IPv4 address (canonical form): IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96). */
const EMBEDS_IPV4 = /^(?:::ffff:|::|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/** Why `address` may not be called (loopback, private, link-local, metadata…), or null when it is public. */
export function forbiddenAddress(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'is not an IP address';
  if (family === 4)
    return BLOCKED.check(address, 'ipv4')
      ? 'is a loopback, private, link-local, metadata or reserved IPv4 address'
      : null;
  const canonical = canonicalIpv6(address);
  const embedded = EMBEDS_IPV4.exec(canonical);
  if (embedded) return forbiddenAddress(hexToIpv4(embedded[1], embedded[2]));
  return BLOCKED.check(canonical, 'ipv6') ? 'is a loopback, private, link-local or reserved IPv6 address' : null;
}

/**
 * Checks a target URL under `policy` and resolves it: the scheme, then every address its host
 * resolves to (one forbidden address refuses the whole target: DNS may hand out any of them).
 * Throws TargetRefused with a reason a caller can read.
 */
export async function checkTarget(raw: string, policy: TargetPolicy, resolve: Resolver): Promise<CheckedTarget> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefused('must be an absolute URL');
  }
  if (url.protocol !== 'https:' && (policy.requireHttps || url.protocol !== 'http:')) {
    throw new TargetRefused(policy.requireHttps ? 'must be an https URL' : 'must be an http or https URL');
  }
  if (url.username || url.password) throw new TargetRefused('must not carry credentials');
  // WHATWG URL already rewrote 127.1, 2130706433 and 0x7f.1 as 127.0.0.1, and brackets IPv6.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (!hostname) throw new TargetRefused('must name a host');
  let addresses: string[];
  if (isIP(hostname)) {
    addresses = [hostname];
  } else {
    try {
      addresses = await resolve(hostname);
    } catch {
      throw new TargetRefused(`host ${hostname} cannot be resolved`);
    }
    if (!addresses.length) throw new TargetRefused(`host ${hostname} cannot be resolved`);
  }
  if (!policy.allowPrivateTargets) {
    for (const address of addresses) {
      const why = forbiddenAddress(address);
      if (why) throw new TargetRefused(`resolves to ${address}, which ${why}`);
    }
  }
  const address = addresses[0];
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { url, hostname, address, family: isIP(address) as 4 | 6, port };
}

/** The compressed lower-case form WHATWG URL gives (`::ffff:127.0.0.1` → `::ffff:7f00:1`), without a zone id. */
function canonicalIpv6(address: string): string {
  return new URL(`http://[${address.replace(/%.*$/, '')}]/`).hostname.slice(1, -1);
}

function hexToIpv4(high: string, low: string): string {
  const h = parseInt(high, 16);
  const l = parseInt(low, 16);
  return `${h >> 8}.${h & 255}.${l >> 8}.${l & 255}`;
}
