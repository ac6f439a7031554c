#!/bin/sh
# Generates the TypeScript wire types and codecs from proto/vigil.proto with ts-proto: `npm run proto`
# writes proto/gen/; a directory argument writes there instead (the staleness test compares the two).
# Needs protoc (Debian: protobuf-compiler); the plugin comes from node_modules.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/proto/gen}"
mkdir -p "$out"
# forceLong=number: seq and counters are uint64 on the wire, numbers here; decoding refuses anything past 2^53.
exec protoc \
  --plugin=protoc-gen-ts_proto="$root/node_modules/.bin/protoc-gen-ts_proto" \
  --ts_proto_out="$out" \
  --ts_proto_opt=outputServices=grpc-js,forceLong=number,esModuleInterop=true,importSuffix=.js,env=node \
  --ts_proto_opt=annotateFilesWithVersion=false,outputJsonMethods=false,outputPartialMethods=false \
  -I "$root/proto" "$root/proto/vigil.proto"
