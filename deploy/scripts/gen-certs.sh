#!/usr/bin/env bash
# Makes everything Vigil's mTLS and REST auth need, locally, with openssl only (no network):
#   OUT/ca/ca.crt, ca.key        the Vigil CA. Keep ca.key offline: it is needed only to add nodes.
#   OUT/collector/               the collector's server certificate (SANs: its Service names)
#   OUT/nodes/<node>/            one client certificate per node: CN and DNS SAN = the node name
#   OUT/tokens.txt               REST API bearer tokens with their roles (read, report), the collector's --tokens format
#   OUT/secrets.yaml             Secrets vigil-collector-tls and vigil-api-tokens, for kubectl apply
#
# Usage: gen-certs.sh [-o OUT] [-n NAMESPACE] [-d DAYS] [--cluster-domain DOMAIN] NODE [NODE...]
# Run it again with more node names to add nodes: the CA, the collector's certificate and the tokens are
# kept; only missing node certificates are made.
#
# How an agent gets its certificate, and what that identity is worth
# ------------------------------------------------------------------
# The collector accepts a report for node X only over a connection whose client certificate names X
# (like the NodeRestriction admission plugin does for kubelets). That is only as strong as the rule that
# node X's key is on node X and nowhere else. A DaemonSet cannot mount a different Secret on each node,
# and one Secret holding every node's key would let any one compromised node speak for all of them. So
# each node's key is put on that node, at /etc/vigil/pki/{ca.crt,tls.crt,tls.key} (root, 0600), by
# whoever provisions nodes (cloud-init, your configuration management, or by hand:
#   scp -r OUT/nodes/NODE/. root@NODE:/etc/vigil/pki/ ), and the DaemonSet mounts that directory
# read-only (hostPath). Agents on nodes without it do not start, and say why in the pod's events.
# Limits, honestly:
# - Root on node X (or anyone who can run a privileged pod or a hostPath pod there) can read X's key and
#   speak as X; not as any other node.
# - Anyone who can schedule a pod with a hostPath volume onto node X can do the same: keep hostPath
#   volumes out of reach of ordinary users (Pod Security baseline or stricter in their namespaces).
# - There is no revocation list: a node that is removed keeps a valid certificate until it expires
#   (-d, 365 days by default). Rotate by making a new CA and new certificates.
# - The node name in the certificate is what a provisioner wrote; nothing checks it against the node
#   object in the API server.
set -euo pipefail

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

OUT=./vigil-certs
NAMESPACE=vigil-system
DAYS=365
CLUSTER_DOMAIN=cluster.local
NODES=()
while [ $# -gt 0 ]; do
  case "$1" in
    -o) OUT=${2:?-o needs a directory}; shift 2 ;;
    -n) NAMESPACE=${2:?-n needs a namespace}; shift 2 ;;
    -d) DAYS=${2:?-d needs a number of days}; shift 2 ;;
    --cluster-domain) CLUSTER_DOMAIN=${2:?--cluster-domain needs a domain}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; NODES+=("$@"); break ;;
    -*) echo "gen-certs.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) NODES+=("$1"); shift ;;
  esac
done

command -v openssl >/dev/null || { echo "gen-certs.sh: openssl not found" >&2; exit 1; }
[[ "$DAYS" =~ ^[1-9][0-9]{0,4}$ ]] || { echo "gen-certs.sh: -d must be a number of days, got '$DAYS'" >&2; exit 2; }
# Node names become file names and certificate subjects: only DNS-1123 subdomains (what Kubernetes allows).
DNS1123='^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'
for n in "$NAMESPACE" "$CLUSTER_DOMAIN" ${NODES[@]+"${NODES[@]}"}; do
  if ! [[ "$n" =~ $DNS1123 ]] || [ ${#n} -gt 253 ]; then
    echo "gen-certs.sh: '$n' is not a valid Kubernetes name (lowercase DNS-1123 subdomain)" >&2; exit 2
  fi
done
[ ${#NODES[@]} -gt 0 ] || echo "gen-certs.sh: no node names given: making only the CA, the collector's certificate and tokens" >&2

umask 077
mkdir -p "$OUT/ca" "$OUT/collector" "$OUT/nodes"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# sign KEY CN EXTFILE OUT_CRT
sign() {
  openssl req -new -key "$1" -subj "/O=vigil/CN=$2" -out "$TMP/req.csr"
  openssl x509 -req -in "$TMP/req.csr" -CA "$OUT/ca/ca.crt" -CAkey "$OUT/ca/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$DAYS" -sha256 -extfile "$3" -out "$4" 2>/dev/null
}

if [ ! -s "$OUT/ca/ca.key" ]; then
  new_key "$OUT/ca/ca.key"
  openssl req -x509 -new -key "$OUT/ca/ca.key" -subj "/O=vigil/CN=vigil-ca" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$OUT/ca/ca.crt"
  echo "made CA $OUT/ca/ca.crt"
fi

if [ ! -s "$OUT/collector/tls.key" ]; then
  svc=vigil-collector
  cat > "$TMP/collector.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:$svc,DNS:$svc.$NAMESPACE,DNS:$svc.$NAMESPACE.svc,DNS:$svc.$NAMESPACE.svc.$CLUSTER_DOMAIN,DNS:localhost,IP:127.0.0.1
EXT
  new_key "$OUT/collector/tls.key"
  sign "$OUT/collector/tls.key" "$svc.$NAMESPACE.svc" "$TMP/collector.ext" "$OUT/collector/tls.crt"
  cp "$OUT/ca/ca.crt" "$OUT/collector/ca.crt"
  echo "made collector certificate $OUT/collector/tls.crt"
fi

for node in ${NODES[@]+"${NODES[@]}"}; do
  dir="$OUT/nodes/$node"
  [ -s "$dir/tls.key" ] && continue
  mkdir -p "$dir"
  cat > "$TMP/node.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=DNS:$node
EXT
  new_key "$dir/tls.key"
  sign "$dir/tls.key" "$node" "$TMP/node.ext" "$dir/tls.crt"
  cp "$OUT/ca/ca.crt" "$dir/ca.crt"
  echo "made agent certificate for node $node"
done

if [ ! -s "$OUT/tokens.txt" ]; then
  cat > "$OUT/tokens.txt" <<TOK
# Bearer tokens for the collector's REST API (vigil-collector serve --tokens): <token> <role>[,<role>] <name>.
# role read: queries; role report: POST /api/v1/reports.
$(openssl rand -hex 32) read admin
$(openssl rand -hex 32) report ci-report
TOK
  echo "made API tokens $OUT/tokens.txt"
fi

b64() { openssl base64 -A -in "$1"; }
cat > "$OUT/secrets.yaml" <<SEC
# Generated by deploy/scripts/gen-certs.sh. Holds private keys and tokens: do not commit.
apiVersion: v1
kind: Secret
metadata:
  name: vigil-collector-tls
  namespace: $NAMESPACE
  labels:
    app.kubernetes.io/part-of: vigil
type: kubernetes.io/tls
data:
  ca.crt: $(b64 "$OUT/ca/ca.crt")
  tls.crt: $(b64 "$OUT/collector/tls.crt")
  tls.key: $(b64 "$OUT/collector/tls.key")
---
apiVersion: v1
kind: Secret
metadata:
  name: vigil-api-tokens
  namespace: $NAMESPACE
  labels:
    app.kubernetes.io/part-of: vigil
type: Opaque
data:
  tokens.txt: $(b64 "$OUT/tokens.txt")
SEC

cat <<NEXT

Next:
  1. kubectl apply -f $OUT/secrets.yaml          (after the namespace exists: kubectl apply -k deploy/overlays/<single|ha>)
  2. Put each node's directory on that node, owned by root, key mode 0600:
       $OUT/nodes/<node>/{ca.crt,tls.crt,tls.key}  ->  <node>:/etc/vigil/pki/
  3. ha overlay only: kubectl -n $NAMESPACE create secret generic vigil-database --from-literal=password=...
  4. Move $OUT/ca/ca.key somewhere offline; bring it back only to add nodes.
NEXT
