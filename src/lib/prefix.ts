// RFC 6052 NAT64 prefixes: parsing, normalisation and address synthesis.
import ipaddr from 'ipaddr.js';

export const LEGAL_LENGTHS = [32, 40, 48, 56, 64, 96] as const;
export type PrefixLength = (typeof LEGAL_LENGTHS)[number];

export interface Nat64Prefix {
  /** canonical text, e.g. "2001:db8:64::/96": the identity used for deduplication and in BIND */
  text: string;
  /** 16 bytes of the network address */
  bytes: number[];
  length: PrefixLength;
}

export class PrefixError extends Error {}

/**
 * Parses "2001:db8:64::/96" (or a bare address, which means /96 as in the original daemon's file).
 * Rejects what BIND's named-checkconf would reject, with the same reasons, so bad prefixes never
 * reach BIND.
 */
export function parsePrefix(input: string): Nat64Prefix {
  const raw = input.trim();
  const [addrText, lenText, ...rest] = raw.split('/');
  if (!addrText || rest.length > 0) throw new PrefixError(`"${input}" is not an IPv6 prefix`);
  if (!ipaddr.IPv6.isValid(addrText) || addrText.includes('%')) {
    throw new PrefixError(`"${input}" is not an IPv6 prefix (bad address "${addrText}")`);
  }
  const length = lenText === undefined ? 96 : Number(lenText);
  if (lenText !== undefined && !/^\d+$/.test(lenText)) {
    throw new PrefixError(`"${input}": prefix length "${lenText}" is not a number`);
  }
  if (!(LEGAL_LENGTHS as readonly number[]).includes(length)) {
    throw new PrefixError(`"${input}": prefix length /${length} is not one of /32 /40 /48 /56 /64 /96 (RFC 6052)`);
  }
  const addr = ipaddr.IPv6.parse(addrText);
  if (addr.kind() !== 'ipv6' || addr.isIPv4MappedAddress()) {
    throw new PrefixError(`"${input}" is an IPv4-mapped address, not a NAT64 prefix`);
  }
  const bytes = addr.toByteArray();
  for (let bit = length; bit < 128; bit++) {
    if (bitAt(bytes, bit)) {
      throw new PrefixError(`"${input}": bits beyond /${length} are set (address/prefix length mismatch)`);
    }
  }
  // Bits 64..71 are the RFC 6052 "u" octet and must be zero; only a /96 can carry them in the prefix.
  if (bytes[8] !== 0) {
    throw new PrefixError(`"${input}": bits 64..71 (the RFC 6052 u-octet) must be zero`);
  }
  const text = `${ipaddr.fromByteArray(bytes).toString()}/${length}`;
  return { text, bytes, length: length as PrefixLength };
}

function bitAt(bytes: number[], bit: number): boolean {
  return ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) === 1;
}

/** Where the 32 IPv4 bits go for each prefix length (RFC 6052 section 2.2): byte 8 is always skipped. */
const IPV4_BYTE_POSITIONS: Record<PrefixLength, number[]> = {
  32: [4, 5, 6, 7],
  40: [5, 6, 7, 9],
  48: [6, 7, 9, 10],
  56: [7, 9, 10, 11],
  64: [9, 10, 11, 12],
  96: [12, 13, 14, 15],
};

/** The IPv4-embedded IPv6 address of ipv4 under prefix (suffix bits zero). */
export function synthesize(prefix: Nat64Prefix, ipv4: string): string {
  if (!ipaddr.IPv4.isValidFourPartDecimal(ipv4)) throw new PrefixError(`"${ipv4}" is not an IPv4 address`);
  const v4 = ipaddr.IPv4.parse(ipv4).toByteArray();
  const out = prefix.bytes.slice();
  IPV4_BYTE_POSITIONS[prefix.length].forEach((pos, i) => {
    out[pos] = v4[i]!;
  });
  return ipaddr.fromByteArray(out).toString();
}

/** Inverse of synthesize: the IPv4 address embedded in addr under prefix. */
export function extractIpv4(prefix: Nat64Prefix, addr: string): string {
  const bytes = ipaddr.IPv6.parse(addr).toByteArray();
  return IPV4_BYTE_POSITIONS[prefix.length].map((pos) => bytes[pos]).join('.');
}

/**
 * The prefix under which addr embeds ipv4 (RFC 6052: any legal length, u-octet and suffix zero),
 * or null. Tried longest first.
 */
export function prefixEmbedding(addr: string, ipv4: string): Nat64Prefix | null {
  const bytes = ipaddr.IPv6.parse(addr).toByteArray();
  if (bytes[8] !== 0) return null;
  for (const length of [...LEGAL_LENGTHS].reverse()) {
    const positions = IPV4_BYTE_POSITIONS[length];
    const network = bytes.map((b, i) => (i * 8 >= length ? 0 : b));
    const prefix: Nat64Prefix = {
      bytes: network,
      length,
      text: `${ipaddr.fromByteArray(network).toString()}/${length}`,
    };
    const suffixZero = bytes.every((b, i) => i * 8 < length || i === 8 || positions.includes(i) || b === 0);
    if (suffixZero && extractIpv4(prefix, addr) === ipv4) return prefix;
  }
  return null;
}
