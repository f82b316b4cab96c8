#!/usr/bin/env bash
# A CPU without AVX must be able to load libbnb4j and run its scalar kernels (the dispatcher picks
# them; the JVM then prefers the vectorized Java kernels). Two things would break that without any
# test on this machine failing, since it has AVX2: an instruction of a wider ISA in an object compiled
# for every x86-64 CPU (a -m flag or -march=native reaching it), and an inline function or template that
# an ISA object emits as a weak symbol, which the linker may pick for the generic callers as well.
# Usage: isa_isolation.sh CMAKE_BUILD_DIR
set -euo pipefail
objs="$1/CMakeFiles/bnb4j_objs.dir/src/main/cpp"
[ -d "$objs" ] || { echo "isa_isolation: no objects under $objs" >&2; exit 2; }
isa_objects="isa_avx2 optim_avx2 isa_avx512 optim_avx512 isa_vbmi optim_vbmi"
fail=0
generic=0
for o in "$objs"/*.cpp.o; do
  name=$(basename "$o" .cpp.o)
  if [[ " $isa_objects " == *" $name "* ]]; then
    # weak definitions, but for the personality reference every C++ object with exceptions carries
    weak=$(nm -C --defined-only "$o" | awk '$2 ~ /^[WVu]$/' | grep -v 'DW.ref.__gxx_personality_v0' || true)
    if [ -n "$weak" ]; then
      echo "FAIL $name.o defines weak symbols (the linker may give them to generic callers):"; echo "$weak"; fail=1
    fi
  else
    generic=$((generic + 1))
    # VEX/EVEX-encoded instructions: AVX mnemonics (v...) on xmm/ymm/zmm registers, or any ymm/zmm/k mask use
    hits=$(objdump -d --no-show-raw-insn "$o" | grep -E '\sv[a-z0-9]+\s.*%[xyz]mm|%[yz]mm[0-9]|vzeroupper' || true)
    if [ -n "$hits" ]; then
      echo "FAIL $name.o (built for every x86-64 CPU) holds AVX instructions:"; echo "$hits" | head -5; fail=1
    fi
  fi
done
# the check must see both kinds of object, and must recognise AVX code where it is meant to be
[ "$generic" -ge 5 ] || { echo "FAIL only $generic generic objects found under $objs" >&2; exit 1; }
ymm=$(objdump -d --no-show-raw-insn "$objs/optim_avx2.cpp.o" | grep -cE '%ymm[0-9]' || true)
[ "$ymm" -gt 0 ] || { echo "FAIL the AVX2 object shows no ymm use: the pattern is broken" >&2; exit 1; }
[ $fail -eq 0 ] && echo "PASS $generic generic objects hold no AVX instructions; the ISA objects define no weak symbols"
exit $fail
