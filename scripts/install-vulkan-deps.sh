#!/usr/bin/env bash
# Installs what the Vulkan build and its tests need from Debian's packages, only what is missing:
# libvulkan-dev (loader and headers), glslc (shader compiler), spirv-headers (ggml-vulkan's CMake needs them) and
# mesa-vulkan-drivers (Mesa's lavapipe, a software Vulkan device, for machines without a GPU).
# Runs apt-get as root (through sudo when not root) and says so. Prints what the step cost in seconds.
set -euo pipefail
packages=(libvulkan-dev glslc spirv-headers mesa-vulkan-drivers)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "vulkan deps: already installed (${packages[*]})"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "vulkan deps: missing ${missing[*]}, and this is not a Debian-like system: install the Vulkan loader and" \
    "headers, glslc, SPIRV-Headers and a Vulkan driver (or the LunarG SDK) yourself" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
started=$(date +%s)
echo "vulkan deps: installing ${missing[*]} with apt-get as root${sudo:+ (through sudo)}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "vulkan deps: installed ${missing[*]} in $(( $(date +%s) - started )) s"
