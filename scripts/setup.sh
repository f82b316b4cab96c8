#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to build bnb4j: a JDK 17+, Maven, CMake and
# a C++17 compiler, and a font for the report charts. Idempotent: does nothing when everything is already there.
set -euo pipefail

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
# the report charts (JFreeChart, headless AWT) need a font
command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list 2>/dev/null | head -1)" ] || missing+=(fontconfig fonts-dejavu-core)
if ! command -v javac >/dev/null 2>&1 || [ "$(javac -version 2>&1 | sed -E 's/javac ([0-9]+).*/\1/')" -lt 17 ]; then
  missing+=(openjdk-17-jdk-headless)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
