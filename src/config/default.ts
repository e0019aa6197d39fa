// Used when neither --config nor the default config file exists: the public NAT64 service's four
// prefixes, probed politely (long interval, jitter) against three independent well-known services.
export const DEFAULT_CONFIG_YAML = `# embedded default configuration of nat64-health
prefixes:
  - { prefix: "2a00:1098:2b::/96", name: public-1 }
  - { prefix: "2a00:1098:2c:1::/96", name: public-2 }
  - { prefix: "2a01:4f8:c2c:123f:64::/96", name: public-3 }
  - { prefix: "2a01:4f9:c010:3f02:64::/96", name: public-4 }
probes:
  - { type: tcp, address: 1.1.1.1, port: 443 }
  - { type: tcp, address: 8.8.8.8, port: 443 }
  - { type: dns, address: 9.9.9.9, name: example.com, record: A }
health:
  interval: 30s
  timeout: 3s
  fast_interval: 5s
  rise: 2
  fall: 3
  quorum: 2
  jitter: 0.2
select:
  min_active: 2
  max_active: 3
  drain: 1h
bind:
  mode: include
  output: /var/lib/bind/nat64-health/dns64.conf
  dns64:
    clients: [any]
    # the exclude list the public service's operators ask resolvers to use with its prefixes
    exclude: ["0::/3", "4000::/2", "8000::/1", "2001:db8::/32"]
`;
