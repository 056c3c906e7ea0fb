#!/usr/bin/env bash
# Open Inference over gRPC (typed contents and raw contents) against V2 REST on the same server: 1-row and 1,000-row
# requests, 16 calls in flight, alternating rounds (bench/MlModels.Bench/GrpcBench.cs). Goal: raw gRPC on 1,000-row
# requests at least 2x REST's rows per second. Needs python3-onnx (Debian).
# Run:  bash bench/grpc-bench.sh [seconds-per-run] [rounds]     (defaults: 5 3)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release src/MlModels.Server -v quiet --nologo >/dev/null
dotnet build -c Release bench/MlModels.Bench -v quiet --nologo >/dev/null
dotnet bench/MlModels.Bench/bin/Release/net10.0/MlModels.Bench.dll grpc "${1:-5}" "${2:-3}"
