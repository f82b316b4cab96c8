#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to build bnb4j: a JDK 17+, Maven, CMake and
# a C++17 compiler, and a font for the report charts; with --test also what the test suite needs beyond
# that: QEMU's user-mode emulator, which runs JVMs on older x86-64 CPU models (EmulatedCpuTest).
# Idempotent: does nothing when everything is already there.
set -euo pipefail

tests=0
for a in "$@"; do
  case "$a" in
    --test) tests=1 ;;
    *) echo "usage: setup.sh [--test]" >&2; exit 2 ;;
  esac
done

missing=()
if [ $tests -eq 1 ] && [ "$(uname -m)" = x86_64 ]; then
  command -v qemu-x86_64 >/dev/null 2>&1 || missing+=(qemu-user)
fi
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
# the report charts (JFreeChart, headless AWT) need a font
command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list 2>/dev/null | head -1)" ] || missing+=(fontconfig fonts-dejavu-core)
need_jdk=0
if ! command -v javac >/dev/null 2>&1 || [ "$(javac -version 2>&1 | sed -E 's/javac ([0-9]+).*/\1/')" -lt 17 ]; then
  need_jdk=1
fi

if [ ${#missing[@]} -gt 0 ] || [ $need_jdk -eq 1 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  if [ $need_jdk -eq 1 ]; then
    # JDK 17 where the release has it (Debian 12, Ubuntu 22.04/24.04); newer releases ship only later LTS JDKs
    jdk=""
    for v in 17 21 25; do
      if apt-cache show "openjdk-$v-jdk-headless" >/dev/null 2>&1; then jdk="openjdk-$v-jdk-headless"; break; fi
    done
    [ -n "$jdk" ] || { echo "setup: no openjdk-17/21/25-jdk-headless package in this release's apt sources" >&2; exit 1; }
    missing+=("$jdk")
  fi
  echo "setup: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
