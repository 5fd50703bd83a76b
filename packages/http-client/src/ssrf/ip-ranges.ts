import { isIP } from "node:net";

/**
 * Why an address is not on the public internet, or undefined when it is. Covers IPv4 and IPv6,
 * including IPv4 embedded in IPv6 (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`),
 * so that no spelling of 127.0.0.1 or 169.254.169.254 slips through.
 */
export function nonPublicReason(address: string): string | undefined {
  const zone = address.indexOf("%");
  const ip = zone === -1 ? address : address.slice(0, zone);
  switch (isIP(ip)) {
    case 4:
      return ipv4Reason(parseIPv4(ip));
    case 6:
      return ipv6Reason(parseIPv6(ip));
    default:
      return "not an IP address";
  }
}

/** [network, prefix length, reason] for IPv4; the first match wins. */
const IPV4_RANGES: readonly [number, number, string][] = [
  [ipv4("0.0.0.0"), 8, "an unspecified ('this network') address"],
  [ipv4("10.0.0.0"), 8, "a private address"],
  [ipv4("100.64.0.0"), 10, "a carrier-grade NAT address"],
  [ipv4("127.0.0.0"), 8, "a loopback address"],
  [ipv4("169.254.169.254"), 32, "the cloud metadata address"],
  [ipv4("169.254.0.0"), 16, "a link-local address"],
  [ipv4("172.16.0.0"), 12, "a private address"],
  [ipv4("192.0.0.0"), 24, "an IETF protocol address"],
  [ipv4("192.0.2.0"), 24, "a documentation address"],
  [ipv4("192.88.99.0"), 24, "a 6to4 relay address"],
  [ipv4("192.168.0.0"), 16, "a private address"],
  [ipv4("198.18.0.0"), 15, "a benchmarking address"],
  [ipv4("198.51.100.0"), 24, "a documentation address"],
  [ipv4("203.0.113.0"), 24, "a documentation address"],
  [ipv4("224.0.0.0"), 4, "a multicast address"],
  [ipv4("240.0.0.0"), 4, "a reserved address"],
];

function ipv4Reason(value: number): string | undefined {
  for (const [network, bits, reason] of IPV4_RANGES) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((value & mask) >>> 0 === network) return reason;
  }
  return undefined;
}

function ipv6Reason(g: readonly number[]): string | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (upperZero && g5 === 0 && g6 === 0) {
    if (g7 === 0) return "an unspecified address";
    if (g7 === 1) return "a loopback address";
  }
  const embedded = () => ipv4Reason(((g6 << 16) | g7) >>> 0);
  // ::ffff:a.b.c.d (IPv4-mapped) and ::a.b.c.d (IPv4-compatible, deprecated): judge the IPv4 inside.
  if (upperZero && (g5 === 0xffff || g5 === 0))
    return embedded() ?? (g5 === 0 ? "a reserved address" : undefined);
  // ::ffff:0:a.b.c.d (IPv4-translated)
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return embedded();
  // 64:ff9b::/96 (NAT64 well-known prefix) carries an IPv4 address in its last 32 bits.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return embedded();
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return "a local-use NAT64 address";
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return "a discard-only address";
  // 2002::/16 (6to4) carries an IPv4 address in bits 16..47.
  if (g0 === 0x2002) return ipv4Reason(((g1 << 16) | g2) >>> 0);
  if (g0 === 0x2001 && g1 === 0xdb8) return "a documentation address";
  if (g0 === 0x2001 && g1 < 0x200) return "an IETF protocol address (Teredo and others)";
  if ((g0 & 0xfe00) === 0xfc00) return "a unique local address";
  if ((g0 & 0xffc0) === 0xfe80) return "a link-local address";
  if ((g0 & 0xffc0) === 0xfec0) return "a site-local address";
  if ((g0 & 0xff00) === 0xff00) return "a multicast address";
  return undefined;
}

function ipv4(text: string): number {
  return parseIPv4(text);
}

/** A dotted quad (already validated by net.isIP) as an unsigned 32-bit number. */
function parseIPv4(text: string): number {
  const parts = text.split(".");
  return (
    ((Number(parts[0]) << 24) | (Number(parts[1]) << 16) | (Number(parts[2]) << 8) | Number(parts[3])) >>> 0
  );
}

/** An IPv6 address (already validated by net.isIP) as eight 16-bit groups. */
function parseIPv6(text: string): number[] {
  let head = text;
  const tailV4: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    tailV4.push(v4 >>> 16, v4 & 0xffff);
    // Keep a trailing "::" whole; drop the single ":" that separated the groups from the quad.
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((h) => parseInt(h, 16)));
  const gap = head.indexOf("::");
  let groups: number[];
  if (gap === -1) {
    groups = [...parse(head), ...tailV4];
  } else {
    const left = parse(head.slice(0, gap));
    const right = [...parse(head.slice(gap + 2)), ...tailV4];
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  return groups;
}
