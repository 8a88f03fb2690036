#!/usr/bin/env bash
# Installs what Ppcls needs on Debian/Ubuntu (only what is missing) and builds the solution.
# Used by quickstart.sh and test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: GTK 3 for OpenCV's native runtime (OpenCvSharpExtern links it); a font for the
# text of the PNG reports (SkiaSharp's NoDependencies build reads /usr/share/fonts, no fontconfig);
# Open MPI (mpirun and libmpi.so.40) for data-parallel training and its tests; python3-numpy: the
# tests check .pdparams files against numpy's own pickling; jemalloc, which ./ppcls runs on
# (scripts/jemalloc.sh: fewer page faults and less memory than glibc's heap for libtorch's tensors);
# chromium and chromium-driver: the headless browser test of `ppcls serve`'s page (Selenium, loopback only).
apt_packages=(libgtk-3-0 fonts-dejavu-core openmpi-bin libopenmpi3 python3-numpy libjemalloc2 chromium chromium-driver)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v dotnet >/dev/null; then
  echo "setup: the .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux-debian)" >&2
  exit 1
fi

# `ppcls serve` runs on ASP.NET Core's shared framework, which the .NET SDK packages bring; install it where missing.
if ! dotnet --list-runtimes | grep -q '^Microsoft.AspNetCore.App 10\.'; then
  echo "setup: installing the ASP.NET Core 10 runtime (aspnetcore-runtime-10.0)"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends aspnetcore-runtime-10.0
fi

# The build patches TorchSharp's native library where this system's libstdc++ needs it.
echo "setup: building Ppcls (Release)"
dotnet build Ppcls.sln -c "${PPCLS_CONFIGURATION:-Release}" -nologo -clp:NoSummary -v:quiet
