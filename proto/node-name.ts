// Kubernetes node names: DNS-1123 subdomains, the only names the API server gives a Node. The collector refuses any
// other name on every ingest path, and the agent sends only such a name. Plain values (no zod): the agent imports them.

const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const NODE_NAME_MAX_LENGTH = 253;

/** What a node name must be, as error messages say it. */
export const NODE_NAME_RULE = 'a DNS-1123 subdomain, as Kubernetes node names are: lowercase letters, digits, "-" and ".", '
  + 'starting and ending with a letter or digit';

export const isNodeName = (name: string): boolean => name.length <= NODE_NAME_MAX_LENGTH && DNS_1123_SUBDOMAIN.test(name);
