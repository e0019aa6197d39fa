// Two sites on one resolver, each with its own NAT64 gateway, and a public one as everyone's last
// resort: the client pools setup (issue 21) of the integration tests against a real named.

export const SA = '2001:db8:64:a::/96'; // site A's gateway
export const SB = '2001:db8:64:b::/96'; // site B's gateway
export const PUB = '2001:db8:64:f::/96'; // the last resort

/** The `pools:` entries: each site's clients prefer their own gateway, then the other site's. */
export const SITE_A_POOL = '  - { name: site-a, clients: ["2001:db8:a::/48"], groups: [site-a, site-b, public] }\n';
export const SITE_B_POOL = '  - { name: site-b, clients: ["2001:db8:b::/48"], groups: [site-b, site-a, public] }\n';

/**
 * A fast-cycling daemon config (rounds every 500 ms, decisions after 2 rounds, one prefix a set,
 * drains of an hour) with these `pools:` entries, followed by `tail` (bind: and state_file:).
 */
export function twoSitesYaml(tail: string, pools = SITE_A_POOL + SITE_B_POOL): string {
  return `prefixes:
  - { prefix: "${SA}", name: gw-a, group: site-a }
  - { prefix: "${SB}", name: gw-b, group: site-b }
  - { prefix: "${PUB}", name: public, group: public }
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
health: { interval: 500ms, fast_interval: 250ms, timeout: 300ms, rise: 2, fall: 2 }
select: { groups: [site-a, site-b, public], min_active: 1, max_active: 1, drain: 1h }
pools:
${pools}${tail}`;
}
