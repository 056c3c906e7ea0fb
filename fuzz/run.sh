#!/usr/bin/env bash
# Coverage-guided fuzzing of one parser with afl-fuzz over SharpFuzz-instrumented assemblies. Not run in CI.
#   fuzz/run.sh TARGET MINUTES     targets: mlmodel signature example env request csv frame
#   fuzz/run.sh --stats            executions, paths, crashes and hangs of every target from afl's fuzzer_stats
# Builds into fuzz/out/bin-HASH (once per source change), seeds from tests/conformance plus fuzz/regressions/TARGET, and keeps
# afl's findings in fuzz/out/findings/TARGET (a rerun resumes). Crashes are fixed, then copied into
# fuzz/regressions/TARGET, which tests/MlModels.Core.Tests replays on every test run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="$here/out"

stats() {
  printf '%-10s %12s %10s %8s %8s %8s %10s\n' target execs execs/s paths crashes hangs minutes
  for f in "$out"/findings/*/default/fuzzer_stats; do
    [ -e "$f" ] || continue
    t="$(basename "$(dirname "$(dirname "$f")")")"
    v() { awk -F' *: *' -v k="$1" '$1==k {print $2}' "$f"; }
    printf '%-10s %12s %10s %8s %8s %8s %10s\n' "$t" "$(v execs_done)" "$(v execs_per_sec)" "$(v corpus_count)" \
      "$(v saved_crashes)" "$(v saved_hangs)" "$(( ($(v last_update) - $(v start_time)) / 60 ))"
  done
}
if [ "${1:-}" = "--stats" ]; then stats; exit 0; fi

target="${1:?usage: fuzz/run.sh TARGET MINUTES | --stats}"
minutes="${2:-30}"
case "$target" in mlmodel|signature|example|env|request|csv|frame) ;; *) echo "unknown target '$target'" >&2; exit 2;; esac
command -v afl-fuzz >/dev/null || { echo "afl-fuzz is missing (apt-get install afl++)" >&2; exit 1; }

# Build and instrument once per source change, into a folder of its own (runs still going keep their build);
# concurrent runs wait for each other here.
mkdir -p "$out"
stamp="$(cd "$root" && find src/MlModels.Core fuzz/MlModels.Fuzz Directory.Packages.props -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.py' \) -not -path '*/obj/*' -not -path '*/bin/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)"
bin="$out/bin-$stamp"
(
  flock 9
  if [ ! -e "$bin/.done" ]; then
    rm -rf "$bin"
    dotnet publish "$here/MlModels.Fuzz/MlModels.Fuzz.csproj" -c Release -o "$bin" --nologo -v quiet
    (cd "$root" && dotnet tool restore >/dev/null)
    # The parsers live in these; the framework, ONNX Runtime and SharpFuzz itself stay as they are.
    for dll in MlModels.Core.dll YamlDotNet.dll Sep.dll; do (cd "$root" && dotnet tool run sharpfuzz "$bin/$dll"); done
    touch "$bin/.done"
  fi
) 9>"$out/.build.lock"

# Seeds: the conformance data for this parser, plus every input that once failed.
seeds="$out/seeds/$target"
rm -rf "$seeds"; mkdir -p "$seeds"
conf="$root/tests/conformance"
case "$target" in
  mlmodel) for f in "$conf"/mlmodel/*/MLmodel "$conf"/scoring/models/*/MLmodel; do cp "$f" "$seeds/$(basename "$(dirname "$f")").MLmodel"; done ;;
  signature) /usr/bin/python3 - "$conf" "$seeds" <<'PY'
import glob, json, os, sys, yaml
conf, seeds = sys.argv[1:]
for f in glob.glob(conf + "/mlmodel/*/MLmodel") + glob.glob(conf + "/scoring/models/*/MLmodel"):
    try:
        doc = yaml.safe_load(open(f))
    except yaml.YAMLError:
        continue
    sig = doc.get("signature") if isinstance(doc, dict) else None
    if isinstance(sig, dict):
        open(os.path.join(seeds, os.path.basename(os.path.dirname(f)) + ".json"), "w").write(json.dumps(sig))
PY
  ;;
  example) for f in "$conf"/mlmodel/*/input_example.json "$conf"/mlmodel/*/serving_input_example.json "$conf"/scoring/models/*/input_example.json; do
             [ -e "$f" ] && cp "$f" "$seeds/$(basename "$(dirname "$f")").$(basename "$f")"; done ;;
  env) for f in "$conf"/mlmodel/*/conda.yaml "$conf"/mlmodel/*/python_env.yaml; do cp "$f" "$seeds/$(basename "$(dirname "$f")").$(basename "$f")"; done ;;
  request) cp "$conf"/scoring/requests/*.json "$seeds/" ;;
  csv) cp "$conf"/scoring/requests/*.csv "$seeds/" ;;
  # Replies as the worker writes them for the conformance models' outputs: a frame of columns, a JSON value, an error.
  frame) /usr/bin/python3 - "$seeds" <<'PY'
import json, struct, sys
def frame(header, payload=b""):
    header = dict(header, payload=len(payload))
    h = json.dumps(header).encode()
    return struct.pack("<i", len(h)) + h + payload
cols = struct.pack("<2d", 4.19, 1.46)
seeds = {
    "frame": frame({"ok": True, "kind": "frame", "rows": 2, "columns": [{"name": "0", "dtype": "float64", "nbytes": 16}]}, cols),
    "json": frame({"ok": True, "kind": "json"}, b'{"mean": [1.5, 2.0], "count": [2, 2]}'),
    "error": frame({"ok": False, "type": "ValueError", "error": "bad row", "traceback": "Traceback ..."}),
    "loaded": frame({"ok": True, "python": "3.11.2", "how": "mlflow"}) + frame({"ok": True, "kind": "json"}, b'["Oslo:high"]'),
}
for name, data in seeds.items():
    open(f"{sys.argv[1]}/{name}.bin", "wb").write(data)
PY
  ;;
esac
[ -d "$here/regressions/$target" ] && cp "$here/regressions/$target"/* "$seeds/" 2>/dev/null || true
# afl works best on small seeds; drop empty and large ones.
find "$seeds" -type f \( -size 0 -o -size +32k \) -delete

mkdir -p "$out/findings"
echo "fuzzing $target for $minutes minutes with $(ls "$seeds" | wc -l) seeds; findings in $out/findings/$target"
# The machine is shared: no pinning to a core (and more than two targets may run at once).
AFL_NO_AFFINITY=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_AUTORESUME=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
  nice -n 19 afl-fuzz -i "$seeds" -o "$out/findings/$target" -t 10000 -m none -V "$((minutes * 60))" \
  -- dotnet "$bin/MlModels.Fuzz.dll" "$target" > "$out/$target.log" 2>&1 || { tail -30 "$out/$target.log"; exit 1; }
stats
