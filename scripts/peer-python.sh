# Sourced by the peer benchmarks: Debian's PyTorch 1.13 + torchvision + PIL at its best setting here.
# Debian builds PyTorch against the generic BLAS (libblas.so.3); with the reference libblas3 that
# the package pulls in, a Linear layer runs about 10x slower than on OpenBLAS (MobileNetV2's
# 1280x1000 classifier alone takes ~250 ms of a 32 px batch-128 step), so OpenBLAS (OpenMP build,
# the threads PyTorch uses) is installed and takes the libblas.so.3 alternative.
python=/usr/bin/python3
if ! "$python" -c "import torchvision, PIL" 2>/dev/null || ! dpkg -s libopenblas0-openmp >/dev/null 2>&1; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq && $sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        python3-torch python3-torchvision python3-pil libopenblas0-openmp >/dev/null
fi
peer_blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)
case "$peer_blas" in
    *openblas*) ;;
    *) echo "the peer's BLAS is $peer_blas, not OpenBLAS: run update-alternatives --config libblas.so.3-x86_64-linux-gnu" >&2; exit 1 ;;
esac
