// Test prefixes shared by several files: documentation prefixes (2001:db8::/32) only.

/** The simulated gateways' prefixes of most tests: 2001:db8:64:a::/96 to 2001:db8:64:g::/96. */
export const A = '2001:db8:64:a::/96';
export const B = '2001:db8:64:b::/96';
export const C = '2001:db8:64:c::/96';
export const D = '2001:db8:64:d::/96';
export const E = '2001:db8:64:e::/96';
export const F = '2001:db8:64:f::/96';
export const G = '2001:db8:64:g::/96';

/** one documentation prefix of every RFC 6052 length (/32 /40 /48 /56 /64 /96) */
export const EVERY_LENGTH = [
  '2001:db8::/32',
  '2001:db8:100::/40',
  '2001:db8:48::/48',
  '2001:db8:56:5600::/56',
  '2001:db8:64:64::/64',
  '2001:db8:96:96::/96',
];
