// Test prefixes shared by several files.

/** one documentation prefix of every RFC 6052 length (/32 /40 /48 /56 /64 /96) */
export const EVERY_LENGTH = [
  '2001:db8::/32',
  '2001:db8:100::/40',
  '2001:db8:48::/48',
  '2001:db8:56:5600::/56',
  '2001:db8:64:64::/64',
  '2001:db8:96:96::/96',
];
